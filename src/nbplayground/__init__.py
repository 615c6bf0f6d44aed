"""nbplayground: the OpenAI Playground inside Jupyter, with a memory."""

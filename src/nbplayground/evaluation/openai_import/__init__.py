"""A home for exported OpenAI evals: their items, prompt and graders as nbplayground objects."""

from nbplayground.evaluation.openai_import.build import import_eval
from nbplayground.evaluation.openai_import.errors import InvalidExport, UntrustedCode
from nbplayground.evaluation.openai_import.imported import ImportedEval
from nbplayground.evaluation.openai_import.untrusted import CodeRunner, UntrustedPython

__all__ = ["CodeRunner", "ImportedEval", "InvalidExport", "UntrustedCode", "UntrustedPython",
           "import_eval"]

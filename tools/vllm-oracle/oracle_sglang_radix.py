#!/usr/bin/env python3
"""Oracle: SGLang 0.5.23's own RadixCache, on CPU, matching a shared prefix at page 1 and 64.

A first request's tokens (an 8200-token prefix, then its own tokens) are inserted, whole pages
only, as SGLang inserts a finished prefill; a second request with the same prefix and other tokens
is matched. RadixCache.create_simulated builds the tree without memory pools; no GPU is needed.

    PYTHONPATH=path/to/unpacked/sglang-0.5.23-wheel venv/bin/python tools/vllm-oracle/oracle_sglang_radix.py

The import chain of sglang.srt names packages the radix cache never calls (IPython, gguf, vllm);
they are stubbed. tests/core/prefix_sharing_test.cc cites the two matches (8200 and 8192 tokens).
"""

import importlib.abc
import importlib.machinery
import sys
from unittest import mock

STUBBED = {"IPython", "gguf", "vllm"}


class _Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = mock.MagicMock()
        module.__path__, module.__spec__, module.__name__ = [], spec, spec.name
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Stubs())

import torch  # noqa: E402

from sglang.srt.mem_cache.base_prefix_cache import InsertParams, MatchPrefixParams  # noqa: E402
from sglang.srt.mem_cache.radix_cache import RadixCache, RadixKey  # noqa: E402

PREFIX = list(range(1, 8201))
LENGTH = 32767  # prompt tokens of a 32k request

for page in (1, 64):
    cache = RadixCache.create_simulated(page_size=page)
    first = PREFIX + list(range(100000, 100000 + LENGTH - len(PREFIX)))
    whole = len(first) // page * page
    cache.insert(InsertParams(key=RadixKey(first[:whole]), value=torch.arange(whole, dtype=torch.int64)))
    second = PREFIX + list(range(200000, 200000 + LENGTH - len(PREFIX)))
    match = cache.match_prefix(MatchPrefixParams(key=RadixKey(second)))
    print(f"page {page}: the second request matches {match.device_prefix_len} tokens of its 8200-token prefix")

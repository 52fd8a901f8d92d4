import os

# Each release's wheel unpacked as WHEELS/<version>/sglang/... :
#   pip download sglang==X --no-deps -d w && unzip -q w/*.whl -d "$WHEELS/X"
WHEELS = os.environ.get("SGLANG_WHEELS", "/tmp/sgl")

import sys, types
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fraction_harness_hooks as harness2
from fraction_harness import Backend
orig_funcs = harness2.funcs
harness2.funcs = lambda path, names: orig_funcs(path, set(names) | {"adjust_mem_fraction_for_vlm"})
real_ns = types.SimpleNamespace
def ns(**kw):
    if kw.get("is_multimodal") is False and "hf_config" in kw:
        kw["is_multimodal"] = True
        kw["hf_config"] = real_ns(architectures=["KimiK25ForConditionalGeneration"],
                                  vision_config=real_ns(num_hidden_layers=27, hidden_size=1152))
    return real_ns(**kw)
harness2.types = types.SimpleNamespace(SimpleNamespace=ns)
case = dict(G=143771.0, tp=8, mla=True, model_path="moonshotai/Kimi-K2.5")
print(harness2.run("0.5.23", case, Backend("breakable")))

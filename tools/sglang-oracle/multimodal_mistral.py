# 0.5.23 handle_gpu_memory_settings for a multimodal model (Mistral-Small-3.1, pixtral vision 24 x 1024), TP2 H100,
import os

# Each release's wheel unpacked as WHEELS/<version>/sglang/... :
#   pip download sglang==X --no-deps -d w && unzip -q w/*.whl -d "$WHEELS/X"
WHEELS = os.environ.get("SGLANG_WHEELS", "/tmp/sgl")

# prefill graph DISABLED (as cuda_graph_hook.disable_breakable_cudagraph_if_incompatible leaves it).
import sys, types
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fraction_harness_hooks as harness2
from fraction_harness import Backend
orig_funcs = harness2.funcs
def funcs(path, names):
    return orig_funcs(path, set(names) | {"adjust_mem_fraction_for_vlm"})
harness2.funcs = funcs
# patch the model config namespace by wrapping run's SimpleNamespace creation
real_ns = types.SimpleNamespace
def ns(**kw):
    if kw.get("is_multimodal") is False and "hf_config" in kw:
        kw["is_multimodal"] = True
        kw["hf_config"] = real_ns(architectures=["Mistral3ForConditionalGeneration"],
                                  vision_config=real_ns(num_hidden_layers=24, hidden_size=1024))
    return real_ns(**kw)
harness2.types = types.SimpleNamespace(SimpleNamespace=ns)
case = dict(G=81559.0, tp=2, mla=False, model_path="mistralai/Mistral-Small-3.1-24B-Instruct-2503")
print(harness2.run("0.5.23", case, Backend("disabled")))
case["tp"] = 8; case["G"] = 143771.0
print(harness2.run("0.5.23", case, Backend("disabled")))

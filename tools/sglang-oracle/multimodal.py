"""SGLang 0.5.23's handle_gpu_memory_settings with adjust_mem_fraction_for_vlm, for a multimodal model:
ModelConfig.is_multimodal set and a vision_config of the given depth and width, the prefill graph as
cuda_graph_hook.disable_breakable_cudagraph_if_incompatible leaves it (off outside its allowlist).
Wheels as fraction_harness_hooks.py reads them (SGLANG_WHEELS)."""
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fraction_harness_hooks as hooks
from fraction_harness import Backend

_real_funcs = hooks.funcs
hooks.funcs = lambda path, names: _real_funcs(path, set(names) | {"adjust_mem_fraction_for_vlm"})
_real_namespace = types.SimpleNamespace


def run_multimodal(architecture, vision_layers, vision_hidden, case, prefill_backend):
    # The harness builds its model config as SimpleNamespace(is_multimodal=False, hf_config=...):
    # replace that one namespace with a multimodal config of this architecture and vision tower.
    def namespace(**fields):
        if fields.get("is_multimodal") is False and "hf_config" in fields:
            fields["is_multimodal"] = True
            fields["hf_config"] = _real_namespace(
                architectures=[architecture],
                vision_config=_real_namespace(num_hidden_layers=vision_layers, hidden_size=vision_hidden))
        return _real_namespace(**fields)

    hooks.types = types.SimpleNamespace(SimpleNamespace=namespace)
    return hooks.run("0.5.23", case, Backend(prefill_backend))


if __name__ == "__main__":
    # Mistral-Small-3.1 (pixtral, 24 x 1024): no prefill graph; TP 2 on H100s and TP 8 on H200s.
    mistral = ("Mistral3ForConditionalGeneration", 24, 1024)
    print(run_multimodal(*mistral, dict(G=81559.0, tp=2, mla=False, model_path="mistralai/Mistral-Small-3.1-24B-Instruct-2503"), "disabled"))
    print(run_multimodal(*mistral, dict(G=143771.0, tp=8, mla=False, model_path="mistralai/Mistral-Small-3.1-24B-Instruct-2503"), "disabled"))
    # Kimi-K2.5 (MoonViT, KimiK25VisionConfig's 27 x 1152), on the allowlist: the breakable graph stays.
    print(run_multimodal("KimiK25ForConditionalGeneration", 27, 1152,
                         dict(G=143771.0, tp=8, mla=True, model_path="moonshotai/Kimi-K2.5"), "breakable"))

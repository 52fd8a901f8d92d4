"""0.5.19+ : run arg_groups/memory_hook.py:handle_gpu_memory_settings (release source, imports stripped) with stubs."""
import os

# Each release's wheel unpacked as WHEELS/<version>/sglang/... :
#   pip download sglang==X --no-deps -d w && unzip -q w/*.whl -d "$WHEELS/X"
WHEELS = os.environ.get("SGLANG_WHEELS", "/tmp/sgl")

import ast, sys, types, copy, json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fraction_harness import Backend, PhaseConfig, CudaGraphConfig, _Envs, CASES, field_defaults

class StripImports(ast.NodeTransformer):
    def visit_ImportFrom(self, node): return ast.Pass()
    def visit_Import(self, node): return ast.Pass()

def funcs(path, names):
    src = open(path).read(); t = ast.parse(src); out = {}
    for node in t.body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            node = StripImports().visit(node); ast.fix_missing_locations(node)
            out[node.name] = ast.unparse(node)
        if isinstance(node, ast.Assign) and any(isinstance(tg, ast.Name) and tg.id.startswith("_DEFAULT") for tg in node.targets):
            out[node.targets[0].id] = ast.unparse(node)
    return out

def run(ver, case, prefill_backend):
    root = f"{WHEELS}/{ver}/sglang/srt/arg_groups"
    mem = funcs(f"{root}/memory_hook.py", {"handle_gpu_memory_settings","reserve_for_graph_mb","reserve_for_deepep_a2a_mb"})
    cgh = funcs(f"{root}/cuda_graph_hook.py", {"generate_decode_cuda_graph_batch_sizes","generate_prefill_cuda_graph_batch_sizes"})
    # server args defaults: fields live in arg_groups/fields/*.py dataclasses in these versions
    import glob
    d = {}
    for f in glob.glob(f"{root}/fields/*.py") + [f"{WHEELS}/{ver}/sglang/srt/server_args.py"]:
        src = open(f).read(); t = ast.parse(src)
        for node in ast.walk(t):
            if isinstance(node, ast.ClassDef):
                for a in node.body:
                    if isinstance(a, ast.AnnAssign) and isinstance(a.target, ast.Name) and a.value is not None:
                        try: d.setdefault(a.target.id, ast.literal_eval(a.value))
                        except Exception: pass
    sa = types.SimpleNamespace(**d)
    sa.tp_size = case["tp"]; sa.pp_size = 1; sa.dp_size = 1; sa.attn_dp_size = 1; sa.device = "cuda"
    sa.model_path = case["model_path"]; sa.mem_fraction_static = None; sa.chunked_prefill_size = None
    sa.speculative_algorithm = None; sa.max_running_requests = None; sa.disaggregation_mode = "null"
    sa.max_total_tokens = None; sa.language_only = False; sa.language_model_only = False; sa.enable_symm_mem = False
    sa.enable_dp_attention = False; sa.moe_a2a_backend = "none"; sa.speculative_num_draft_tokens = None
    sa.disable_cuda_graph_padding = False; sa.speculative_eagle_topk = None
    sa.cuda_graph_config = CudaGraphConfig(decode=PhaseConfig(backend=Backend.FULL), prefill=PhaseConfig(backend=prefill_backend))
    sa._cuda_graph_config_locked = set()
    mc = types.SimpleNamespace(is_multimodal=False, hf_config=types.SimpleNamespace(architectures=["X"]))
    def declare_resolution(server_args, who, **kw):
        for k, v in kw.items(): setattr(server_args, k, v)
    from typing import Any, Optional, List
    g = dict(Any=Any, Optional=Optional, List=List, copy=copy, Backend=Backend, Phase=types.SimpleNamespace(DECODE="decode", PREFILL="prefill"), envs=_Envs(),
             resolving_view=lambda x: x, resolved_view=lambda x: x, declare_resolution=declare_resolution,
             model_config_of=lambda x: mc, use_mla_backend=lambda x: case["mla"],
             post_capture_kv_sizing_planned=lambda x: False, attn_dp_enabled_of=lambda x: False,
             get_device_memory_capacity=lambda dev=None: case["G"],
             get_platform=lambda: types.SimpleNamespace(is_xpu=False),
             expand_multimodal_decode_graph_to_running_limit=lambda *a, **k: None,
             generate_cpu_graph_batch_sizes=None, is_npu=lambda: False,
             logger=types.SimpleNamespace(warning=print, info=print))
    for code in list(cgh.values()) + list(mem.values()):
        exec(compile(code, ver, "exec"), g)
    if "gpu_mem" in [a.arg for a in ast.parse(mem["handle_gpu_memory_settings"]).body[0].args.args]:
        g["handle_gpu_memory_settings"](sa, case["G"])
    else:
        g["handle_gpu_memory_settings"](sa)
    c = sa.cuda_graph_config
    return dict(mfs=sa.mem_fraction_static, chunk=sa.chunked_prefill_size, decode_max_bs=c.decode.max_bs, prefill_sizes=len(c.prefill.bs or []))

if __name__ == "__main__":
    ver = sys.argv[1]; pb = json.loads(sys.argv[2])
    for k, c in CASES.items():
        try: print(ver, k, run(ver, c, Backend(pb[k])))
        except Exception as e:
            import traceback; traceback.print_exc(); print(ver, k, "ERROR", e)

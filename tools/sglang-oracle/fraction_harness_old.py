"""0.4.x-0.5.2: run the mem_fraction_static / chunked_prefill_size statements of ServerArgs.__post_init__ (release source)."""
import os

# Each release's wheel unpacked as WHEELS/<version>/sglang/... :
#   pip download sglang==X --no-deps -d w && unzip -q w/*.whl -d "$WHEELS/X"
WHEELS = os.environ.get("SGLANG_WHEELS", "/tmp/sgl")

import ast, sys, types
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fraction_harness import CASES

class StripImports(ast.NodeTransformer):
    def visit_ImportFrom(self, node): return ast.Pass()
    def visit_Import(self, node): return ast.Pass()

def block(ver):
    src = open(f"{WHEELS}/{ver}/sglang/srt/server_args.py").read(); t = ast.parse(src)
    for node in ast.walk(t):
        if isinstance(node, ast.FunctionDef) and node.name == "__post_init__":
            body = node.body; keep = []; on = False
            for st in body:
                seg = ast.get_source_segment(src, st)
                if isinstance(st, ast.Assign) and "get_device_memory_capacity" in seg: on = True; continue
                if on and isinstance(st, ast.If) and ("mem_fraction_static is None" in seg.split("\n")[0] or "chunked_prefill_size is None" in seg.split("\n")[0]):
                    keep.append(StripImports().visit(st))
            mod = ast.Module(body=[ast.FunctionDef(name="f", args=ast.arguments(posonlyargs=[], args=[ast.arg("self"), ast.arg("gpu_mem")], kwonlyargs=[], kw_defaults=[], defaults=[]), body=keep, decorator_list=[], returns=None, type_params=[])], type_ignores=[])
            ast.fix_missing_locations(mod)
            return ast.unparse(mod)

def run(ver, case):
    code = block(ver); g = dict(is_cuda=lambda: True, ModelConfig=types.SimpleNamespace(from_server_args=lambda s: types.SimpleNamespace(is_multimodal=False)))
    exec(compile(code, ver, "exec"), g)
    s = types.SimpleNamespace(tp_size=case["tp"], pp_size=1, dp_size=1, enable_dp_attention=False, speculative_algorithm=None,
        mem_fraction_static=None, chunked_prefill_size=None, disaggregation_mode="null", page_size=1,
        adjust_mem_fraction_for_vlm=lambda mc: None)
    g["f"](s, case["G"])
    return dict(mfs=s.mem_fraction_static, chunk=s.chunked_prefill_size)

if __name__ == "__main__":
    ver = sys.argv[1]
    if len(sys.argv) > 2: print(block(ver)); sys.exit()
    for k, c in CASES.items():
        try: print(ver, k, run(ver, c))
        except Exception as e:
            import traceback; traceback.print_exc(); print(ver, k, "ERROR", e)

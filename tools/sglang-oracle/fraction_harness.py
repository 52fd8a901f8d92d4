"""Execute each release's own mem-fraction code (source extracted from the wheel) with a stub `self`.
No torch/sglang import: helper functions are stubbed; the arithmetic is the release's code."""
import os

# Each release's wheel unpacked as WHEELS/<version>/sglang/... :
#   pip download sglang==X --no-deps -d w && unzip -q w/*.whl -d "$WHEELS/X"
WHEELS = os.environ.get("SGLANG_WHEELS", "/tmp/sgl")

import ast, sys, textwrap, types, json, enum
from dataclasses import dataclass, field
from typing import Optional, List

class Backend(str, enum.Enum):
    DISABLED="disabled"; FULL="full"; TC_PIECEWISE="tc_piecewise"; BREAKABLE="breakable"
@dataclass
class PhaseConfig:
    backend: str = Backend.DISABLED
    max_bs: Optional[int] = None
    bs: Optional[List[int]] = None
    tc_compiler: str = "eager"
@dataclass
class CudaGraphConfig:
    decode: PhaseConfig = None
    prefill: PhaseConfig = None

class _Env:
    def is_set(self): return True
    def get(self): return False
    def set(self,v): pass
class _Envs:
    def __getattr__(self, n): return _Env()

CASES = {
 "llama8b_tp1_h100":  dict(G=81559.0, tp=1, mla=False, model_path="meta-llama/Llama-3.1-8B-Instruct"),
 "llama70b_tp4_h100": dict(G=81559.0, tp=4, mla=False, model_path="meta-llama/Llama-3.1-70B-Instruct"),
 "dsv3_tp8_h200":     dict(G=143771.0, tp=8, mla=True,  model_path="deepseek-ai/DeepSeek-V3"),
}

def class_methods(path, cls="ServerArgs"):
    src = open(path).read(); t = ast.parse(src); out = {}
    for node in ast.walk(t):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for f in node.body:
                if isinstance(f, ast.FunctionDef):
                    out[f.name] = textwrap.dedent(ast.get_source_segment(src, f))
    return src, out

def field_defaults(path, cls="ServerArgs"):
    src=open(path).read(); t=ast.parse(src); d={}
    for node in ast.walk(t):
        if isinstance(node, ast.ClassDef) and node.name==cls:
            for f in node.body:
                if isinstance(f, ast.AnnAssign) and isinstance(f.target, ast.Name) and f.value is not None:
                    try: d[f.target.id]=ast.literal_eval(f.value)
                    except Exception: pass
    return d

def make_self(case, extra, defaults=None):
    s = types.SimpleNamespace()
    s.tp_size=case["tp"]; s.pp_size=1; s.dp_size=1; s.enable_dp_attention=False
    s.speculative_algorithm=None; s.chunked_prefill_size=None; s.cuda_graph_max_bs=None
    s.cuda_graph_bs=None; s.mem_fraction_static=None; s.max_prefill_tokens=16384
    s.disable_cuda_graph_padding=False; s.device="cuda"; s.enable_piecewise_cuda_graph=False
    s.disable_piecewise_cuda_graph=False; s.piecewise_cuda_graph_max_tokens=None
    s.piecewise_cuda_graph_tokens=None; s.max_total_tokens=None; s.model_path=case["model_path"]
    s.context_length=None; s.language_only=False; s.language_model_only=False; s.enable_symm_mem=False
    s.disaggregation_mode="null"; s.max_running_requests=None; s.speculative_num_draft_tokens=None
    s.torch_compile_max_bs=32; s.enable_two_batch_overlap=False; s.moe_a2a_backend="none"
    s.speculative_eagle_topk=None; s.speculative_num_steps=None
    mc = types.SimpleNamespace(is_multimodal=False, hf_config=types.SimpleNamespace(architectures=["X"]))
    s.get_model_config=lambda: mc
    s.use_mla_backend=lambda: case["mla"]
    s.adjust_mem_fraction_for_vlm=lambda *a: None
    s._resolved=lambda: s
    s.__dict__.update(defaults or {})
    s.tp_size=case["tp"]; s.model_path=case["model_path"]; s.device="cuda"
    s.__dict__.update(extra)
    return s

def run_method_version(ver, case, prefill_backend=None):
    path=f"{WHEELS}/{ver}/sglang/srt/server_args.py"
    src, meths = class_methods(path)
    g = dict(is_npu=lambda: False, is_cuda=lambda: True, is_hip=lambda: False, envs=_Envs(),
             Backend=Backend, logger=types.SimpleNamespace(warning=print, info=print),
             ModelConfig=None, Phase=types.SimpleNamespace(DECODE="decode", PREFILL="prefill"))
    # lazy "from ... import" lines inside methods: make them harmless
    names = ["_handle_gpu_memory_settings","_generate_cuda_graph_batch_sizes","_generate_piecewise_cuda_graph_tokens",
             "_generate_decode_cuda_graph_batch_sizes","_generate_prefill_cuda_graph_batch_sizes",
             "reserve_for_graph_mb","reserve_for_deepep_a2a_mb","post_capture_kv_sizing_planned"]
    extra={}
    s = make_self(case, extra, field_defaults(path))
    for n in names:
        if n in meths:
            code = meths[n]
            code = "\n".join(l for l in code.split("\n") if not l.strip().startswith(("from sglang","import ")) and "ModelConfig.from_server_args" not in l)
            code = code.replace("model_config = self.get_model_config()","model_config = self.get_model_config()")
            ns = {}
            exec(compile(code, f"{ver}:{n}", "exec"), g, ns)
            setattr(s, n, types.MethodType(ns[n], s))
    if "post_capture_kv_sizing_planned" in meths:
        s.post_capture_kv_sizing_planned = lambda: False  # env SGLANG_ENABLE_POST_CAPTURE_KV_SIZING off (default)
    g["resolved_view"] = lambda x: x
    if "cuda_graph_config" in src and "decode_cuda_graph_config = self.cuda_graph_config.decode" in meths["_handle_gpu_memory_settings"]:
        s.cuda_graph_config = CudaGraphConfig(decode=PhaseConfig(backend=Backend.FULL), prefill=PhaseConfig(backend=prefill_backend))
    # lazy import of model_config for multimodal in some versions
    g["model_config"] = s.get_model_config()
    s._handle_gpu_memory_settings(case["G"])
    cgc = getattr(s, "cuda_graph_config", None)
    dmax = cgc.decode.max_bs if cgc else s.cuda_graph_max_bs
    npref = len(cgc.prefill.bs) if cgc and cgc.prefill.bs else (len(s.piecewise_cuda_graph_tokens) if s.piecewise_cuda_graph_tokens else None)
    return dict(mfs=s.mem_fraction_static, chunk=s.chunked_prefill_size, decode_max_bs=dmax, prefill_sizes=npref)

if __name__ == "__main__":
    ver = sys.argv[1]; pb = {}
    if len(sys.argv) > 2: pb = json.loads(sys.argv[2])
    for k, c in CASES.items():
        b = pb.get(k)
        b = Backend(b) if b else None
        try:
            print(ver, k, run_method_version(ver, c, b))
        except Exception as e:
            import traceback; traceback.print_exc(); print(ver, k, "ERROR", e)

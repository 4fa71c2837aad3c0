"""Core benchmark: a Python for-loop dot product vs torch's vectorised one, matrix-product timings on each
device (CPU always; CUDA when present, where the CPU/GPU crossover shows), and the start-up time of
`dlwalk --help`. Prints a table, then one JSON line of the figures.  Usage: python bench/core.py"""
import json, subprocess, sys, time
import torch
from dlwalk.core import benchmark, dot_loop, matmul_timings, device_report, seed_everything

seed_everything(0)
rows, res = [], {}

n = 100_000
a, b = torch.randn(n, dtype=torch.float64), torch.randn(n, dtype=torch.float64)
t_loop, t_vec = benchmark(dot_loop, a, b, n=5, warmup=1), benchmark(torch.dot, a, b, n=200, warmup=10)
res['dot_n'] = n
res['dot_loop_ms'], res['dot_vectorised_ms'] = t_loop.median * 1e3, t_vec.median * 1e3
res['vectorised_speedup'] = t_loop.median / t_vec.median
rows.append((f'dot product n={n:,}', 'python for-loop', f'{t_loop.median*1e3:.3f} ms', 'baseline'))
rows.append((f'dot product n={n:,}', 'torch.dot', f'{t_vec.median*1e3:.4f} ms', f'{res["vectorised_speedup"]:.0f}x faster'))

sizes = (64, 256, 1024, 2048)
cpu = matmul_timings(sizes, device='cpu', n=5)
gpu = matmul_timings(sizes, device='cuda', n=20) if torch.cuda.is_available() else {}
for s in sizes:
    res[f'matmul_{s}_cpu_ms'] = cpu[s] * 1e3
    rows.append((f'matmul {s}x{s}', 'cpu', f'{cpu[s]*1e3:.3f} ms', f'{2*s**3/cpu[s]/1e9:.1f} GFLOP/s'))
    if gpu:
        res[f'matmul_{s}_cuda_ms'] = gpu[s] * 1e3
        rows.append((f'matmul {s}x{s}', 'cuda', f'{gpu[s]*1e3:.3f} ms', f'{cpu[s]/gpu[s]:.1f}x vs cpu'))

def cli_help():
    subprocess.run([sys.executable, '-c', 'import sys; from dlwalk.cli import main; sys.exit(main(["--help"]))'],
                   check=True, capture_output=True)
t_help = benchmark(cli_help, n=5, warmup=1)
res['cli_help_s'] = t_help.median
rows.append(('dlwalk --help', 'fresh process', f'{t_help.median:.3f} s', 'target < 1.5 s'))

rep = device_report()
w = [max(len(str(r[i])) for r in rows + [('case', 'how', 'median', 'note')]) for i in range(4)]
print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, torch {rep['torch_version']}")
for r in [('case', 'how', 'median', 'note')] + rows: print('  '.join(f'{str(c):<{w[i]}}' for i, c in enumerate(r)))
res['device'] = rep['device']
print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in res.items()}))

"""Short form of the two-process test (issue 7): `accelerate launch` starts two CPU processes (gloo) running the real
`dlwalk train TASK` for two epochs. Checks: the command succeeds; both ranks print the same weights digest, and it is
the digest of the saved model; only rank 0 wrote into --out (every write, rename, mkdir and delete each rank makes
is recorded by a Python audit hook); the history has one row per epoch (not one per rank) and run.json says
world_size 2.

Usage, from the repository root in a venv with accelerate: `python .ci/ddp_check.py [--task tabular] [--epochs 2]`.
Exit status 0 when every check passes; the output of the run is printed when one fails.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time
from pathlib import Path

# Imported by every Python process of the run (through PYTHONPATH): each rank logs the writes it makes under --out.
HOOK = r'''
import os, sys
_out, _log, _rank = os.environ.get('DDP_CHECK_OUT'), os.environ.get('DDP_CHECK_LOG'), os.environ.get('RANK')
if _out and _log and _rank is not None:
    _fd = os.open(f'{_log}.{_rank}', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _W = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    def _under(p):
        try: return isinstance(p, (str, bytes, os.PathLike)) and os.path.abspath(os.fsdecode(p)).startswith(_out)
        except Exception: return False
    def _hook(event, args):
        if event == 'open':
            path, mode, flags = (tuple(args) + (None, None))[:3]
            if not ((mode and any(c in mode for c in 'wax+')) or (isinstance(flags, int) and flags & _W)): return
            paths = [path]
        elif event in ('os.rename', 'os.link', 'os.symlink'): paths = list(args[:2])
        elif event in ('os.mkdir', 'os.remove', 'os.rmdir', 'os.truncate', 'shutil.rmtree', 'os.chmod', 'os.utime'): paths = [args[0]]
        else: return
        for p in paths:
            if _under(p): os.write(_fd, f'{event} {os.fsdecode(p)}\n'.encode())
    sys.addaudithook(_hook)
'''

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--task', default='tabular'); ap.add_argument('--epochs', type=int, default=2)  # 2: tabular's KeepBest picks an epoch
    ap.add_argument('--timeout', type=int, default=600)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d).resolve()
        out, hook, log, cwd = d / 'run', d / 'hook', d / 'writes', d / 'cwd'
        hook.mkdir(); cwd.mkdir()
        (hook / 'sitecustomize.py').write_text(HOOK)
        env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1', DDP_CHECK_OUT=str(out), DDP_CHECK_LOG=str(log),
                   PYTHONPATH=os.pathsep.join([str(hook)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
        cmd = ['accelerate', 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
               '--dynamo_backend', 'no', '-m', 'dlwalk', 'train', a.task, '--epochs', str(a.epochs), '--out', str(out)]
        t0 = time.time()
        r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=a.timeout)
        secs = time.time() - t0
        writes = {k: (Path(f'{log}.{k}').read_text().splitlines() if Path(f'{log}.{k}').exists() else None) for k in '01'}
        problems = []
        if r.returncode: problems.append(f'the command exited with status {r.returncode}')
        digests = dict(re.findall(r'rank (\d)/2: weights sha256 ([0-9a-f]{64})', r.stdout))
        if sorted(digests) != ['0', '1']: problems.append(f'expected a weights digest from ranks 0 and 1, got ranks {sorted(digests)}')
        elif digests['0'] != digests['1']: problems.append(f"ranks ended with different weights: {digests['0'][:12]} vs {digests['1'][:12]}")
        if writes['1'] is None or writes['0'] is None: problems.append('the audit hook did not run in both ranks (no write logs)')
        else:
            if writes['1']: problems.append(f"rank 1 wrote into --out: {writes['1'][:5]}")
            if not writes['0']: problems.append('rank 0 wrote nothing into --out')
        if list(cwd.iterdir()): problems.append(f'files written into the working folder: {[p.name for p in cwd.iterdir()]}')
        if not problems:
            run = json.loads((out / 'run.json').read_text())
            if (run['world_size'], run['status']) != (2, 'complete'): problems.append(f"run.json: world_size {run['world_size']}, status {run['status']}")
            import warnings; warnings.filterwarnings('ignore')
            import pandas as pd
            n = len(pd.read_csv(out / 'history.csv'))
            if n != a.epochs: problems.append(f'history.csv has {n} rows for {a.epochs} epoch(s)')
            from dlwalk.export import load_model
            from dlwalk.train import weights_digest
            if weights_digest(load_model(out).model) != digests['0']: problems.append("the saved model's weights differ from the ranks'")
        if problems:
            print(f'ddp check FAILED ({secs:.0f} s): ' + '; '.join(problems))
            print('--- stdout\n' + r.stdout[-4000:] + '\n--- stderr\n' + r.stderr[-4000:])
            return 1
        print(f"ddp check passed in {secs:.0f} s: {a.task}, {a.epochs} epoch(s), 2 processes (gloo); both ranks' weights sha256 "
              f"{digests['0'][:16]}... = the saved model's; rank 0 made {len(writes['0'])} writes under --out, rank 1 none")
        return 0

if __name__ == '__main__': sys.exit(main())

"""`dlwalk walk` end to end: total wall time and each task's test metric against its baseline, from one run.

Run from the repository root: `python bench/walk.py` (target: under 10 minutes on a 2-core CPU, every task at or
above its baseline). Prints the command's own output, a summary table, then one JSON line.
"""
import json, os, subprocess, sys, time

def main():
    env = dict(os.environ, MPLBACKEND='Agg', TOKENIZERS_PARALLELISM='false', HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', WANDB_MODE='offline')
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-m', 'dlwalk', 'walk', '--json_out', *sys.argv[1:]], env=env, capture_output=True, text=True)
    total = time.perf_counter() - t0
    print(r.stdout)
    if r.returncode:
        print(r.stderr[-3000:], file=sys.stderr)
        sys.exit(r.returncode)
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    res = {'total_s': round(total, 1), 'target_total_s': 600, 'walk_reported_s': rec.pop('total_s')}
    rows = []
    for task, t in rec.items():
        if t.get('value') is None:
            rows.append((task, t.get('status') or 'not available', '', '', '', '')); res[task] = None; continue
        hib, v, b = t.get('higher_is_better', True), t['value'], t.get('baseline_value')
        ok = b is None or (v >= b if hib else v <= b)
        rows.append((task, f"{t['metric']} {v:.4f}", f"{t['baseline']} {b:.4f}" if b is not None else '', f"{t['time_s']:.1f} s",
                     'higher' if hib else 'lower', 'yes' if ok else 'NO'))
        res[task] = {'metric': t['metric'], 'value': round(v, 4), 'baseline': t['baseline'],
                     'baseline_value': None if b is None else round(b, 4), 'higher_is_better': hib, 'time_s': round(t['time_s'], 1), 'at_or_above_baseline': ok}
    res['all_at_or_above_baseline'] = all(v['at_or_above_baseline'] for k, v in res.items() if isinstance(v, dict))
    res['under_target'] = total < 600
    hdr = ('task', 'metric (test)', 'baseline (test)', 'train time', 'better is', 'beats baseline')
    w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    for row in [hdr] + rows: print('  '.join(str(c).ljust(n) for c, n in zip(row, w)))
    print(f"total wall time {total:.1f} s (target < 600 s)")
    print(json.dumps(res))

if __name__ == '__main__': main()

"""`dlwalk walk` end to end: total wall time and, per task, the setting the walk chose on the validation split (with every
candidate's validation score) and the chosen setting's test metric against its baseline, read once, from one run.

Runs the real command in a subprocess (`python -m dlwalk walk --json_out`), as a user would, streaming its output;
then prints a summary table, the machine line and one JSON line. The walk itself makes every choice on the validation
split (`dlwalk.train.walk`: candidates trained with test=False, the best `valid_value` kept, that setting trained again
with the same seed for the test figure); this script only reads what it reports. Target: under 10 minutes on a 2-core
CPU with every task at or above its baseline. Run from the repository root: `python bench/walk.py` (extra arguments go to the
command, e.g. `--tasks vision,graph` or `--full`). Timings depend on what else runs on the machine: the load
averages at start and end are printed and kept in the JSON.
"""
import json, os, platform, resource, subprocess, sys, tempfile, time

TARGET_S = 600

def main():
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1', TOKENIZERS_PARALLELISM='false', HF_HUB_OFFLINE='1',
               TRANSFORMERS_OFFLINE='1', WANDB_MODE='offline')
    load0 = os.getloadavg()
    cmd = [sys.executable, '-m', 'dlwalk', 'walk', '--json_out', *sys.argv[1:]]
    print('$ ' + ' '.join(['dlwalk'] + cmd[3:]), flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryFile('w+') as err:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        lines = []
        for line in p.stdout:  # the command's own progress, live
            lines.append(line)
            if not line.startswith('{'): print(line, end='', flush=True)
        code = p.wait()
        total = time.perf_counter() - t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = ru.ru_utime + ru.ru_stime  # the command's CPU time: close to its wall time on an idle machine with 1 torch thread
        err.seek(0); stderr = err.read()
    load1 = os.getloadavg()
    if code:
        print(stderr[-3000:], file=sys.stderr)
        sys.exit(code)
    rec = json.loads(lines[-1])
    res = {'total_s': round(total, 1), 'cpu_s': round(cpu, 1), 'target_total_s': TARGET_S, 'walk_reported_s': rec.pop('total_s')}
    rows = []
    for task, t in rec.items():
        if t.get('value') is None:
            rows.append((task, t.get('status') or 'not available', '', '', '', '', ''))
            res[task] = {'status': t.get('status'), 'value': None}
            continue
        hib, v, b = t.get('higher_is_better', True), t['value'], t.get('baseline_value')
        margin = t.get('margin')  # dlwalk walk's: value minus baseline, sign flipped when lower is better
        ok = margin is None or margin >= 0
        wall = t['wall_s']
        cands = t.get('candidates') or []
        rows.append((task, f"{t['metric']} {v:.4f}", f"{t['baseline']} {b:.4f}" if b is not None else '',
                     '' if margin is None else f'{margin:+.4f}', f'{wall:.1f} s', 'yes' if ok else 'NO',
                     '; '.join(f"{' '.join(f'{k}={x}' for k, x in c['setting'].items()) or '(defaults)'}: {c['valid']:.4f}"
                               + (' *' if c['chosen'] else '') for c in cands)))
        res[task] = {'dataset': t.get('dataset'), 'metric': t['metric'], 'value': round(v, 4), 'valid_value': t.get('valid_value'),
                     'baseline': t['baseline'], 'baseline_value': None if b is None else round(b, 4), 'higher_is_better': hib,
                     'margin': None if margin is None else round(margin, 4), 'time_s': round(wall, 1),
                     'fit_s': round(t['time_s'], 1), 'status': t.get('status'), 'at_or_above_baseline': ok,
                     'chosen_on': t.get('chosen_on'), 'settings': t.get('settings'), 'candidates': cands}
    res['all_at_or_above_baseline'] = all(v.get('at_or_above_baseline', False) for k, v in res.items() if isinstance(v, dict))
    res['under_target'] = total < TARGET_S
    print()
    hdr = ('task', 'metric (test, read once)', 'baseline (test)', 'margin', 'time', 'at/above baseline', 'candidates: valid score (* chosen on valid)')
    w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    for row in [hdr] + rows: print('  '.join(str(c).ljust(n) for c, n in zip(row, w)).rstrip())
    print(f"total wall time {total:.1f} s (target < {TARGET_S} s): {'met' if res['under_target'] else 'MISSED'}; CPU time {cpu:.1f} s; "
          f"every task at or above its baseline: {'yes' if res['all_at_or_above_baseline'] else 'NO'}")
    from dlwalk.core import device_report
    rep = device_report('cpu')
    print(f"machine: {rep['name']}, {rep['cpu_count']} cores, {rep['total_memory_gb']:.0f} GiB, Python {platform.python_version()}, "
          f"torch {rep['torch_version']}, {rep['cpu_threads']} torch thread(s) (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}); "
          f"load average at start {load0[0]:.1f}, at end {load1[0]:.1f} (1 min)")
    res['machine'] = dict(cpu=rep['name'], cores=rep['cpu_count'], memory_gb=round(rep['total_memory_gb']), torch=rep['torch_version'],
                          torch_threads=rep['cpu_threads'], load_start=round(load0[0], 2), load_end=round(load1[0], 2))
    print(json.dumps(res))

if __name__ == '__main__': main()

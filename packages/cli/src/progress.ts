// Progress on stderr: a redrawn bar on a terminal, plain start/finish lines otherwise (logs stay readable).
import type { CliIo } from './io.js';

/** A progress event from @sdq/pipeline: `done` of `total` units of the named task. */
export interface ProgressEvent {
  task: string;
  done: number;
  total: number;
  detail?: string;
}

export interface ProgressReporter {
  (event: ProgressEvent): void;
  /** Finish the current line (e.g. before printing an error). */
  end(): void;
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** Render one bar line: `task [#####-----] 5/10 1.2s eta 1.2s detail`, cut to `columns`. */
export function renderBar(event: ProgressEvent, elapsedMs: number, columns: number): string {
  const frac = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const eta = event.done > 0 && event.done < event.total ? ` eta ${formatSeconds((elapsedMs / event.done) * (event.total - event.done))}` : '';
  const line = `${event.task} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${event.done}/${event.total} ${formatSeconds(elapsedMs)}${eta}${event.detail ? ` ${event.detail}` : ''}`;
  return line.length >= columns ? line.slice(0, Math.max(10, columns - 1)) : line;
}

export function createProgress(io: CliIo, options: { quiet?: boolean; now?: () => number } = {}): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  let task: string | undefined;
  let last: ProgressEvent | undefined;
  let started = 0;
  let open = false;
  let lastDraw = 0;

  const end = (): void => {
    if (open && io.stderrIsTty) io.stderr('\n');
    open = false;
    task = undefined;
    last = undefined;
  };

  const report = ((event: ProgressEvent) => {
    if (options.quiet) return;
    if (event.task !== task) {
      // Tasks run one after another: a new one means the previous has finished, even when its producer reported only
      // its start (e.g. "quantize read 0/1" before "quantize quantize 0/1"). Show it finished, not stuck at 0/1.
      const previous = last;
      if (previous && previous.done < previous.total) report({ ...previous, done: previous.total });
      end();
      task = event.task;
      started = now();
      if (!io.stderrIsTty) io.stderr(`${event.task}: ${event.total} ${event.total === 1 ? 'step' : 'steps'}...\n`);
    }
    last = event;
    const elapsed = now() - started;
    const finished = event.done >= event.total;
    if (io.stderrIsTty) {
      // Redraw at most ~20 times a second; always draw the final state.
      if (finished || now() - lastDraw > 50) {
        io.stderr(`\r\x1b[2K${renderBar(event, elapsed, io.columns)}`);
        lastDraw = now();
        open = true;
      }
      if (finished) end();
    } else if (finished) {
      io.stderr(`${event.task}: done ${event.done}/${event.total} in ${formatSeconds(elapsed)}${event.detail ? ` (${event.detail})` : ''}\n`);
      task = undefined;
    }
  }) as ProgressReporter;
  report.end = end;
  return report;
}

/**
 * A periodic job: runs `fn` every `intervalMs`, never two runs at once, errors logged (never
 * thrown at the event loop); `stop()` waits for a run in progress.
 */
import type { Logger } from '../shared/log.js';

export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly fn: () => Promise<void> | void,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs the job now (or waits for the run in progress). */
  runNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        await this.fn();
      } catch (err) {
        this.log.error({ err, job: this.name }, 'periodic job failed');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}

// Drives an interactive command-line client (zkCli.sh, cli_mt) over stdin, one command at a time.
// After each command we send a *sentinel* command whose output is unique and predictable (a read
// of a node that does not exist, `/__sentinel_N`); the output between two sentinels is the
// command's output. This works for commands that print nothing and for asynchronous shells,
// because a session's replies come back in request order.
//
// stdout and stderr are merged through one pipe (`2>&1` in a shell), so their order is kept.

import { spawn, type ChildProcess } from 'node:child_process';

export interface ShellSpec {
  /** Executable and arguments. */
  command: string;
  args: string[];
  /** The sentinel command for step n and a matcher for its output (the end marker). */
  sentinel(n: number): { command: string; done: RegExp };
  /** Output that means the shell is connected and ready for commands. */
  ready: RegExp;
  env?: NodeJS.ProcessEnv;
}

export class ShellSession {
  private output = '';
  private consumed = 0;
  private step = 0;
  private exited = false;
  private waiters: Array<() => void> = [];
  readonly child: ChildProcess;

  private constructor(private readonly spec: ShellSpec) {
    const quoted = [spec.command, ...spec.args].map(shellQuote).join(' ');
    this.child = spawn('/bin/sh', ['-c', `exec ${quoted} 2>&1`], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: spec.env ?? process.env,
    });
    this.child.stdout?.on('data', (b: Buffer) => this.append(b.toString('utf8')));
    this.child.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  static async start(spec: ShellSpec, timeout_ms = 30_000): Promise<ShellSession> {
    const s = new ShellSession(spec);
    const ready = await s.waitFor(spec.ready, timeout_ms, 'ready');
    s.consumed = ready.index + ready.length;
    return s;
  }

  /** Everything the shell printed so far. */
  transcript(): string {
    return this.output;
  }

  /** Runs one command; resolves with its output (up to, not including, the sentinel's). */
  async run(command: string, timeout_ms = 30_000): Promise<string> {
    const n = ++this.step;
    const sentinel = this.spec.sentinel(n);
    const start = this.consumed;
    this.child.stdin?.write(`${command}\n${sentinel.command}\n`);
    const end = await this.waitFor(sentinel.done, timeout_ms, `command ${JSON.stringify(command)}`, start);
    const text = this.output.slice(start, end.index);
    this.consumed = end.index + end.length;
    return text;
  }

  /** Sends a line without waiting (e.g. `quit`), then waits for the process to exit. */
  async finish(last_command: string, timeout_ms = 15_000): Promise<string> {
    this.child.stdin?.end(`${last_command}\n`);
    const deadline = Date.now() + timeout_ms;
    while (!this.exited && Date.now() < deadline) await this.changed(deadline - Date.now());
    if (!this.exited) this.kill();
    return this.output.slice(this.consumed);
  }

  kill(): void {
    if (!this.exited && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  private append(text: string): void {
    this.output += text;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(timeout_ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, timeout_ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private async waitFor(re: RegExp, timeout_ms: number, what: string, from = 0): Promise<{ index: number; length: number }> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return { index: from + m.index, length: m[0].length };
      if (this.exited) throw new Error(`${what}: shell exited.\n--- transcript ---\n${this.output}`);
      if (Date.now() >= deadline) throw new Error(`${what}: no ${re} within ${timeout_ms} ms.\n--- transcript ---\n${this.output}`);
      await this.changed(deadline - Date.now());
    }
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

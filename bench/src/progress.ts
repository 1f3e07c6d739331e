// The progress line: rewritten in place on a terminal, one line every few seconds otherwise
// (CI logs), always on stderr so stdout carries only results.

const PLAIN_EVERY_MS = 5_000;

export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private last_plain_ms = 0;
  private last_plain = '';
  private shown = false;

  readonly show = (line: string): void => {
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (now - this.last_plain_ms < PLAIN_EVERY_MS || line === this.last_plain) return;
    this.last_plain_ms = now;
    this.last_plain = line;
    process.stderr.write(`${line}\n`);
  };

  /** Ends the in-place line so the next output starts on a fresh line. */
  done(): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
    this.last_plain_ms = 0;
  }

  note(text: string): void {
    this.done();
    process.stderr.write(`${text}\n`);
  }
}

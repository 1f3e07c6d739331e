// The faults a run may still inject (`--faults-max`), one budget shared by the nemesis loops that
// run side by side (the serial faults and the reconfig loop).

export class FaultBudget {
  constructor(private left: number) {
    if (!Number.isInteger(left) || left < 0) throw new Error(`fault budget: ${left} is not a count`);
  }

  get exhausted(): boolean {
    return this.left <= 0;
  }

  /** Takes one fault from the budget; false when none is left. */
  take(): boolean {
    if (this.left <= 0) return false;
    this.left--;
    return true;
  }
}

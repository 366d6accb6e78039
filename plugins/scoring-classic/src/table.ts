import type { ScoreTable } from '@horde/core';
import type { Cell } from './outcomes.js';

/** A score table being built by a rule. Rules copy the table they receive and never change it. */
export type MutableScoreTable = Record<string, Record<string, number>>;

export function copyTable(table: ScoreTable): MutableScoreTable {
  const copy: MutableScoreTable = {};
  for (const [hotkey, byClass] of Object.entries(table)) copy[hotkey] = { ...byClass };
  return copy;
}

/** Adds `points` to one cell, creating the row and the cell as needed (0 points still creates them). */
export function addPoints(table: MutableScoreTable, hotkey: string, executorClass: string, points: number): void {
  const row = (table[hotkey] ??= {});
  row[executorClass] = (row[executorClass] ?? 0) + points;
}

/** Every executor class that has a cell in the table, in first-seen order. */
export function executorClassesOf(table: ScoreTable): string[] {
  const classes = new Set<string>();
  for (const byClass of Object.values(table)) for (const executorClass of Object.keys(byClass)) classes.add(executorClass);
  return [...classes];
}

/** One column of the table: hotkey → points for `executorClass`, only hotkeys that have the cell. */
export function columnOf(table: ScoreTable, executorClass: string): Map<string, number> {
  const column = new Map<string, number>();
  for (const [hotkey, byClass] of Object.entries(table)) {
    const points = byClass[executorClass];
    if (points !== undefined) column.set(hotkey, points);
  }
  return column;
}

/**
 * Points summed per cell during one pass over outcome columns, then written onto a copy of the
 * table. Rows and cells are created in the order the pass first touched them, and each sum starts
 * from the table's value and adds the points in job order, so the result is exactly what
 * `addPoints` called job by job would give, without a string-keyed lookup per job.
 */
export class CellSums {
  private readonly sums: Float64Array;
  private readonly touched: Uint8Array;
  /** Touched cells in first-touch order. */
  private readonly order: Int32Array;
  private touchedCount = 0;

  constructor(
    private readonly cells: readonly Cell[],
    private readonly table: ScoreTable,
  ) {
    this.sums = new Float64Array(cells.length);
    this.touched = new Uint8Array(cells.length);
    this.order = new Int32Array(cells.length);
  }

  /** Adds `points` to a cell (0 points still creates it). */
  add(cell: number, points: number): void {
    if (this.touched[cell] === 0) {
      const { hotkey, executorClass } = this.cells[cell]!;
      this.touched[cell] = 1;
      this.sums[cell] = this.table[hotkey]?.[executorClass] ?? 0;
      this.order[this.touchedCount++] = cell;
    }
    this.sums[cell]! += points;
  }

  /** A copy of the table with every touched cell set to its sum. */
  toTable(): MutableScoreTable {
    const scored = copyTable(this.table);
    for (let k = 0; k < this.touchedCount; k++) {
      const cell = this.order[k]!;
      const { hotkey, executorClass } = this.cells[cell]!;
      (scored[hotkey] ??= {})[executorClass] = this.sums[cell]!;
    }
    return scored;
  }
}

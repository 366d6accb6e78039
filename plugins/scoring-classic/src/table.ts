import type { ScoreTable } from '@horde/core';

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

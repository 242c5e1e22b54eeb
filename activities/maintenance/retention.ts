import type { ArchiveName } from './backup-files';

export interface RetentionRules {
  keepDaily: number;
  keepWeekly: number;
  /** Days and weeks are counted in this IANA zone (the café's calendar, not the server's). */
  timezone: string;
  /** Archive names kept whatever the rules say (the backup just verified, the newest recorded good one). */
  protect?: Iterable<string>;
}

export interface RetentionPlan {
  keep: string[];
  drop: string[];
}

/**
 * Grandfather-father style, per database, with restic's `--keep-daily/--keep-weekly` meaning:
 * the newest archive of each of the last `keepDaily` days that have one, and the newest of each
 * of the last `keepWeekly` ISO weeks that have one. Counting days that have a backup (not days
 * back from today) means an outage of the backups never ages out the last good ones; and the
 * newest archive of every database is always kept.
 */
export function planRetention(archives: ArchiveName[], rules: RetentionRules): RetentionPlan {
  const protect = new Set(rules.protect ?? []);
  const keep = new Set<string>();
  const byDatabase = new Map<string, ArchiveName[]>();
  for (const archive of archives) {
    byDatabase.set(archive.database, [...(byDatabase.get(archive.database) ?? []), archive]);
  }
  const day = localDay(rules.timezone);
  for (const group of byDatabase.values()) {
    const newestFirst = [...group].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || (a.name < b.name ? 1 : -1));
    keep.add(newestFirst[0]!.name);
    for (const name of newestPerBucket(newestFirst, (archive) => day(archive.takenAt), rules.keepDaily)) keep.add(name);
    for (const name of newestPerBucket(newestFirst, (archive) => isoWeek(day(archive.takenAt)), rules.keepWeekly)) keep.add(name);
  }
  for (const archive of archives) if (protect.has(archive.name)) keep.add(archive.name);
  return {
    keep: archives.filter((archive) => keep.has(archive.name)).map((archive) => archive.name),
    drop: archives.filter((archive) => !keep.has(archive.name)).map((archive) => archive.name),
  };
}

function newestPerBucket(newestFirst: ArchiveName[], bucket: (archive: ArchiveName) => string, limit: number): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const archive of newestFirst) {
    const key = bucket(archive);
    if (seen.has(key)) continue;
    if (seen.size >= limit) break;
    seen.add(key);
    kept.push(archive.name);
  }
  return kept;
}

/** `YYYY-MM-DD` of an instant in `timezone`. */
function localDay(timezone: string): (at: Date) => string {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (at) => format.format(at);
}

/** ISO-8601 week (`2026-W48`) of a calendar day. */
export function isoWeek(day: string): string {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, date));
  const weekday = utc.getUTCDay() || 7;
  // The Thursday of the same week decides which year the week belongs to.
  utc.setUTCDate(utc.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(utc.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((utc.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${utc.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How archives sit in BACKUP_DIR. `<database>_<YYYYMMDDTHHMMSSZ>[_<tag>].dump` with its checksum in
 * `<archive>.sha256` (the `sha256sum -c` format). An archive only gets its final name once it is
 * complete and its checksum is on disk, so a file with a `.dump` name and a checksum beside it
 * is a finished dump; `.partial` files are work in progress and `.rejected` ones failed verification.
 */

export const CHECKSUM_SUFFIX = '.sha256';
export const PARTIAL_SUFFIX = '.partial';
export const QUARANTINE_SUFFIX = '.rejected';

const ARCHIVE_NAME = /^(?<database>.+)_(?<stamp>\d{8}T\d{6}Z)(?:_(?<tag>[0-9a-z]+))?\.dump$/;

export interface ArchiveName {
  name: string;
  database: string;
  takenAt: Date;
}

/** `2026-11-28T03:00:00.000Z` -> `20261128T030000Z`. */
export function fileStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function archiveName(database: string, at: Date, tag?: string): string {
  return `${database}_${fileStamp(at)}${tag ? `_${tag}` : ''}.dump`;
}

export function parseArchiveName(name: string): ArchiveName | undefined {
  const match = ARCHIVE_NAME.exec(name);
  if (!match?.groups) return undefined;
  const s = match.groups.stamp!;
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`;
  const takenAt = new Date(iso);
  if (Number.isNaN(takenAt.getTime())) return undefined;
  return { name, database: match.groups.database!, takenAt };
}

/** A temporary file of ours: `<archive>.<attempt>.partial` or `<archive>.sha256.partial`. */
export function isPartial(name: string): boolean {
  const match = /^(.+\.dump)(?:\.\d+|\.sha256)\.partial$/.exec(name);
  return !!match && !!parseArchiveName(match[1]!);
}

export const checksumPath = (archive: string) => `${archive}${CHECKSUM_SUFFIX}`;

/** Streams the file through SHA-256; `onChunk` sees the bytes read so far (for heartbeats). */
export async function sha256File(file: string, onChunk?: (bytesRead: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
    onChunk?.(read);
  }
  return hash.digest('hex');
}

/** Writes `content` under a temporary name, flushes it and renames it into place. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temporary = `${file}${PARTIAL_SUFFIX}`;
  await writeFile(temporary, content, { mode: 0o640 });
  await fsyncPath(temporary);
  await rename(temporary, file);
}

export async function writeChecksum(archive: string, sha256: string): Promise<void> {
  await writeFileAtomic(checksumPath(archive), `${sha256}  ${path.basename(archive)}\n`);
}

/** The hex digest recorded beside `archive`, or undefined when there is no checksum file. */
export async function readChecksum(archive: string): Promise<string | undefined> {
  try {
    const content = await readFile(checksumPath(archive), 'utf8');
    return /^([0-9a-f]{64})\b/i.exec(content.trim())?.[1]?.toLowerCase();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a rename durable: the directory entry is flushed too. */
export const fsyncDir = (dir: string) => fsyncPath(dir);

/**
 * Takes a bad archive out of the set of good-looking backups: renamed to `.rejected` for whoever
 * investigates, its checksum removed. Safe to repeat.
 */
export async function quarantine(archive: string): Promise<string> {
  const target = `${archive}${QUARANTINE_SUFFIX}`;
  await rm(checksumPath(archive), { force: true });
  try {
    await rename(archive, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return target;
}

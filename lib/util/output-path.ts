// Output paths are checked before any work starts: a run that would write over its own input, or
// into a folder it must not touch, is refused while nothing has been computed or destroyed yet.
import { constants } from "node:fs";
import { access, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A path the output must not be (or, for a folder, lie inside), with what it is, for the error. */
export interface ProtectedPath {
  path: string;
  /** how the error names it: "the input", "the job folder", ... */
  role: string;
}

export interface OutputPathRules {
  /** files the output must not be, by name, symbolic link or hard link */
  files?: readonly ProtectedPath[];
  /** folders the output must not lie in */
  folders?: readonly ProtectedPath[];
}

/**
 * Resolves `output` to where its bytes would land (following links in the folder and, when it
 * exists, the file itself) and refuses it, with an Error that says why, when it is a folder, its
 * folder is missing or not writable, it is one of `rules.files` or it lies in one of `rules.folders`.
 * Returns the resolved path.
 */
export async function checkOutputPath(output: string, rules: OutputPathRules = {}): Promise<string> {
  const target = await landingPath(output);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`output ${output} is a folder: name a file inside it`);
  const folder = dirname(target);
  const folderStat = await stat(folder).catch(() => undefined);
  if (!folderStat?.isDirectory()) throw new Error(`output ${output}: its folder ${dirname(output)} does not exist`);
  await access(folder, constants.W_OK).catch(() => {
    throw new Error(`output ${output}: its folder ${dirname(output)} is not writable`);
  });
  for (const file of rules.files ?? []) {
    const protectedTarget = await landingPath(file.path);
    const protectedStat = await stat(protectedTarget).catch(() => undefined);
    const sameFile =
      protectedTarget === target ||
      (existing !== undefined && protectedStat !== undefined && sameInode(existing, protectedStat));
    if (sameFile) throw new Error(`output ${output} is ${file.role} (${file.path}): it would be overwritten`);
  }
  for (const folderRule of rules.folders ?? []) {
    const protectedFolder = await landingPath(folderRule.path);
    if (isInside(target, protectedFolder)) {
      throw new Error(`output ${output} lies inside ${folderRule.role} (${folderRule.path}): write it elsewhere`);
    }
  }
  return target;
}

/** `child` is `parent` or lies below it (both already resolved). */
export function isInside(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return path === "" || (path !== ".." && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

function sameInode(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** The real path `path` names: links resolved in the file itself where it exists, else in its folder. */
async function landingPath(path: string): Promise<string> {
  const absolute = resolve(path);
  const real = await realpath(absolute).catch(() => undefined);
  if (real !== undefined) return real;
  const folder = await realpath(dirname(absolute)).catch(() => dirname(absolute));
  return join(folder, basename(absolute));
}

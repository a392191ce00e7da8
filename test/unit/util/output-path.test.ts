import { link, mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkOutputPath, isInside } from "../../../lib/util/output-path.js";

const scratch = (): Promise<string> => mkdtemp(join(tmpdir(), "ctxembed-output-path-"));

describe("checkOutputPath", () => {
  it("accepts a new file in an existing folder and returns where it lands", async () => {
    const directory = await scratch();
    expect(await checkOutputPath(join(directory, "out.jsonl"))).toBe(join(directory, "out.jsonl"));
  });

  it("refuses a folder, a missing folder, the input by name, by symbolic link and by hard link", async () => {
    const directory = await scratch();
    const input = join(directory, "input.txt");
    await writeFile(input, "a\nb\n");
    await symlink(input, join(directory, "alias.txt"));
    await link(input, join(directory, "hard.txt"));
    const files = [{ path: input, role: "the input" }];
    await expect(checkOutputPath(directory)).rejects.toThrow(/is a folder/);
    await expect(checkOutputPath(join(directory, "missing", "out"))).rejects.toThrow(/does not exist/);
    await expect(checkOutputPath(input, { files })).rejects.toThrow(/is the input/);
    await expect(checkOutputPath(join(directory, "alias.txt"), { files })).rejects.toThrow(/is the input/);
    await expect(checkOutputPath(join(directory, "hard.txt"), { files })).rejects.toThrow(/is the input/);
    await expect(checkOutputPath(join(directory, ".", "input.txt"), { files })).rejects.toThrow(/is the input/);
  });

  it("refuses anything inside a protected folder, also through a link to it", async () => {
    const directory = await scratch();
    const job = join(directory, "job");
    await mkdir(job);
    await symlink(job, join(directory, "job-link"));
    const folders = [{ path: job, role: "the job folder" }];
    await expect(checkOutputPath(join(job, "part-00003.jsonl"), { folders })).rejects.toThrow(/inside the job folder/);
    await expect(checkOutputPath(join(directory, "job-link", "manifest.json"), { folders })).rejects.toThrow(
      /inside the job folder/,
    );
    expect(await checkOutputPath(join(directory, "job.jsonl"), { folders })).toBe(join(directory, "job.jsonl"));
  });

  it("isInside compares whole path segments", () => {
    expect(isInside("/a/b/c", "/a/b")).toBe(true);
    expect(isInside("/a/b", "/a/b")).toBe(true);
    expect(isInside("/a/bc", "/a/b")).toBe(false);
    expect(isInside("/a/..b", "/a")).toBe(true);
  });
});

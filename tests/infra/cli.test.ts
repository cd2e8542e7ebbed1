// `npm run synth` as an operator runs it: cdk.json's app under Node 22 ESM, offline, no Docker,
// arguments passed through to `cdk synth`.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV, ROOT, removeTempDirs, tempDir } from './synth.js';

afterAll(removeTempDirs);

const run = promisify(execFile);

function synth(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '--silent', 'synth', '--', ...args], {
    cwd: ROOT,
    // npm puts node_modules/.bin (Node 22 among it) first on PATH, as `npm run` does for anyone.
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}${delimiter}${process.env.PATH ?? ''}`, CDK_DEFAULT_ACCOUNT: ENV.account, CDK_DEFAULT_REGION: ENV.region },
    // Six functions bundle in the synth; two test files may synthesize at once on two cores.
    timeout: 150_000,
  });
}

describe('npm run synth', () => {
  it('writes the template and the validation report to --output', async () => {
    const output = tempDir();
    await synth('--output', output);
    expect(existsSync(join(output, 'Mail2Ticket.template.json'))).toBe(true);
    const report = JSON.parse(readFileSync(join(output, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; conclusion: string }> };
    expect(report.pluginReports).toContainEqual(expect.objectContaining({ pluginName: 'AwsSolutions', conclusion: 'success' }));
  }, 180_000);

  it('fails on -c retentionDays=45 with a message naming the key', async () => {
    const output = tempDir();
    const failure = await synth('--output', output, '-c', 'retentionDays=45').then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toContain('mail2ticket: CDK context "retentionDays" must be an integer from 1 to 30 (got "45")');
  });
});

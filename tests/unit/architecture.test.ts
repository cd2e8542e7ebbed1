// The shape rules that keep the domain portable: it speaks only through its ports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ulidIds } from '../../shared/adapters/system/system.js';
import { ownMessageId } from '../../shared/domain/message-ids.js';

const DOMAIN = join(import.meta.dirname, '../../shared/domain');
const FUNCTIONS = join(import.meta.dirname, '../../functions');
const FORBIDDEN = /from '(@aws-sdk\/|@aws-crypto\/|@aws-lambda-powertools\/|@middy\/|googleapis|@googleapis\/|@microsoft\/|@azure\/|dynalite|s3rver|node:net|node:http)/;

describe('architecture', () => {
  it('keeps AWS, provider and transport SDKs out of shared/domain', () => {
    const files = readdirSync(DOMAIN).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const offending = readFileSync(join(DOMAIN, file), 'utf8').split('\n').filter((line) => FORBIDDEN.test(line));
      expect(offending, file).toEqual([]);
    }
  });

  it('builds every S3 client of the functions with S3_CLIENT_OPTIONS (large uploads keep their connections)', () => {
    const sources = readdirSync(FUNCTIONS, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: f, text: readFileSync(join(FUNCTIONS, f), 'utf8') }));
    const constructions = sources.flatMap(({ file, text }) => [...text.matchAll(/new S3Client\(([^)]*)\)/g)].map((m) => ({ file, args: m[1] ?? '' })));
    // Every function that stores or reads objects: ingest, scanner, definitions, purge, sweeper, lifecycle.
    expect(constructions.length).toBeGreaterThanOrEqual(6);
    for (const { file, args } of constructions) expect(args, file).toContain('...S3_CLIENT_OPTIONS');
  });

  it('loads a CLI command\'s module only when that command runs, so `tickets list` loads no provider library', () => {
    const cli = join(import.meta.dirname, '../../shared/cli');
    const main = readFileSync(join(cli, 'main.ts'), 'utf8');
    const staticImports = [...main.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((m) => m[1]);
    const lazyImports = new Set([...main.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]));
    const commandModules = readdirSync(cli)
      .filter((f) => f === 'commands.ts' || f.endsWith('-commands.ts'))
      .map((f) => `./${f.replace(/\.ts$/, '.js')}`);
    expect(commandModules.length).toBeGreaterThanOrEqual(9);
    for (const specifier of commandModules) expect(staticImports).not.toContain(specifier);
    expect(staticImports).not.toContain('../local/stack.js');
    // What main dispatches to, each loaded by its command (graph and tenant commands come through
    // retention-commands.js).
    expect([...lazyImports].sort()).toEqual(
      ['../local/stack.js', './audit-commands.js', './commands.js', './dlq-commands.js', './gmail-commands.js', './requester-commands.js', './retention-commands.js', './sandbox-commands.js'],
    );
  });

  it('mints Message-ID tokens with at least 128 random bits', () => {
    const ids = ulidIds();
    const tokens = new Set(Array.from({ length: 1000 }, () => ids.randomToken()));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) {
      expect(token).toHaveLength(32); // 32 base32 digits: the 160 random bits, zero-padded
      expect(ownMessageId(token, 'helpdesk.example')).toMatch(/^[0-9a-v]+@helpdesk\.example$/);
    }
  });
});

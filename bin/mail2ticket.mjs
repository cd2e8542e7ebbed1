#!/usr/bin/env node
// The `mail2ticket` bin: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';
register();
await import('../shared/cli/main.ts');

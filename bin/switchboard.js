#!/usr/bin/env node
// The `switchboard` command: registers tsx so the TypeScript core runs without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../core/main.ts');

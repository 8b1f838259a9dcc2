// Flat config: typescript-eslint's recommended rules (syntax-only, fast) over the whole repo, plus the
// dependency rules of the architecture (README "Layout"), so a violation fails `npm run lint`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** the nearest package.json of a file, and the workspace packages it declares */
const manifests = new Map();
function manifestOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (manifests.has(dir)) return manifests.get(dir);
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8'));
      const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies }));
      const found = { name: pkg.name, declared, root: Array.isArray(pkg.workspaces) };
      manifests.set(dir, found);
      return found;
    }
  }
  return undefined;
}

/** `every package declares the workspace packages it imports` (an undeclared one works only by hoisting) */
const workspaceDeps = {
  meta: { type: 'problem', schema: [], messages: { undeclared: '{{pkg}} imports {{dep}} without declaring it in its package.json' } },
  create(context) {
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('@anchorflow/')) return;
      const dep = source.split('/').slice(0, 2).join('/');
      const manifest = manifestOf(context.filename);
      if (!manifest || manifest.root || manifest.name === dep || manifest.declared.has(dep)) return;
      context.report({ node, messageId: 'undeclared', data: { pkg: manifest.name, dep } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

const noAppsOrPlugins = [
  { group: ['@anchorflow/daemon', '@anchorflow/daemon/*', '@anchorflow/worker', '@anchorflow/worker/*'], message: 'libs never import apps (ARCHITECTURE §2)' },
  { group: ['@anchorflow/plugin-*', '!@anchorflow/plugin-sdk', '!@anchorflow/plugin-sdk/*', '!@anchorflow/plugin-host', '!@anchorflow/plugin-host/*'], message: 'libs never import plugins (ARCHITECTURE §2)' },
  { group: ['**/apps/**', '**/plugins/**'], message: 'libs never import apps or plugins (ARCHITECTURE §2)' },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tsspec/**', 'data/**', 'coverage/**', '.bench-out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', performance: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly' },
    },
    plugins: { anchorflow: { rules: { 'workspace-deps': workspaceDeps } } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['libs/**/*.ts', 'plugins/**/*.ts', 'apps/**/*.ts'],
    rules: { 'anchorflow/workspace-deps': 'error' },
  },
  {
    // the engine core is plain TypeScript with ports: no framework, ORM, broker or socket library
    files: ['libs/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...noAppsOrPlugins,
          { group: ['@nestjs/*', '@mikro-orm/*', 'nats', 'nats/*', '@nats-io/*', 'socket.io', 'socket.io-client', 'pg', 'express'], message: 'libs/engine imports no Nest, MikroORM, NATS, socket.io or database driver (ARCHITECTURE §2): add a port' },
          { group: ['@anchorflow/*', '!@anchorflow/plugin-sdk', '!@anchorflow/plugin-sdk/*'], message: 'libs/engine depends on @anchorflow/plugin-sdk only; adapters implement its ports' },
        ],
      }],
    },
  },
  {
    files: ['libs/plugin-sdk/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...noAppsOrPlugins, { group: ['@anchorflow/*'], message: 'the plugin SDK depends on no other workspace package' }] }] },
  },
  {
    files: ['libs/{transport,persistence,security,plugin-host}/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...noAppsOrPlugins, { group: ['@nestjs/*'], message: 'only apps/ import @nestjs/* (ARCHITECTURE §2)' }] }] },
  },
  {
    // a plugin is written against the SDK alone
    files: ['plugins/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@anchorflow/*', '!@anchorflow/plugin-sdk', '!@anchorflow/plugin-sdk/*'], message: 'plugins import only @anchorflow/plugin-sdk (ARCHITECTURE §8)' },
          { group: ['**/libs/**', '**/apps/**', '@nestjs/*', '@mikro-orm/*'], message: 'plugins import only @anchorflow/plugin-sdk (ARCHITECTURE §8)' },
        ],
      }],
    },
  },
);

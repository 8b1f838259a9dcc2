import { defineConfig } from 'vite';

// JSX is compiled by Vite's built-in transform (tsconfig "jsx": "react-jsx"); no dev server is used:
// the daemon serves dist/ at / (npm run build).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      // @xyflow/react starts with "use client" (for React Server Components): meaningless in this bundle
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
});

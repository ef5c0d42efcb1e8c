import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The bundled UI is embedded by `cargo build`; no dev server is needed for the app or its tests.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "safari15",
    sourcemap: false,
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});

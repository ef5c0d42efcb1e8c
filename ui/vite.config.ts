import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The bundled UI is embedded by `cargo build`; no dev server is needed for the app or its tests.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "safari15",
    sourcemap: false,
  },
  // Components render in jsdom with Svelte's browser build; commands are mocked
  // (@tauri-apps/api/mocks). The real app is tested end to end in tests/e2e.
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    include: ["src/**/*.test.ts"],
    environment: "jsdom",
  },
}));

import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Built into relay-server (console/dist is embedded by cargo) and served at /console/.
export default defineConfig(({ mode }) => ({
  base: "/console/",
  plugins: [svelte()],
  clearScreen: false,
  build: { target: "es2022", sourcemap: false },
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: { include: ["src/**/*.test.ts"], environment: "jsdom" },
}));

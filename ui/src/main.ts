import { mount } from "svelte";
import { mark } from "./lib/marks";
import "./styles.css";
import App from "./App.svelte";
import { takeFirst, uiFont } from "./lib/first-screen";

mark("bundle runs");
const font = uiFont(takeFirst("ui_font"));
if (font) document.documentElement.style.setProperty("--ui-font", font);
const app = mount(App, { target: document.getElementById("app")! });

export default app;

import { mount } from "svelte";
import { mark } from "./lib/marks";
import "./styles.css";
import App from "./App.svelte";

mark("bundle runs");
const app = mount(App, { target: document.getElementById("app")! });

export default app;

//! How the webview draws, chosen before it starts. WebKitGTK paints with Skia on the GPU by
//! default; on a machine with no GPU (a virtual machine, a remote desktop, Xvfb) that GPU is
//! Mesa's software one, which compiles every new kind of drawing into machine code the first
//! time it is drawn: Relay's first frames then take 100 ms each (500 ms with a cold shader
//! cache) against about 15 ms painted by Skia on the CPU (`scripts/bench-app.sh`).

use std::path::Path;

/// WebKitGTK's switch to Skia's CPU renderer.
pub const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// Whether this machine's OpenGL can only be Mesa's software renderer: told so, or no GPU
/// device at all (no DRM render node, no NVIDIA device).
pub fn software_gl_only(dev: &Path, forced_software: bool) -> bool {
    if forced_software {
        return true;
    }
    let has = |dir: &Path, prefix: &str| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
            })
            .unwrap_or(false)
    };
    !has(&dev.join("dri"), "renderD") && !has(dev, "nvidia")
}

/// Whether the webview should paint on the CPU here: only where OpenGL is software, and never
/// against the person's own choice (the variable already set, to anything).
pub fn cpu_rendering_wanted() -> bool {
    cfg!(target_os = "linux")
        && std::env::var_os(CPU_RENDERING).is_none()
        && software_gl_only(
            Path::new("/dev"),
            std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some_and(|v| v != "0"),
        )
}

/// Called first thing in `run`, before any thread starts (the web process inherits the
/// environment).
pub fn choose() {
    if cpu_rendering_wanted() {
        std::env::set_var(CPU_RENDERING, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_only_without_a_render_node_or_an_nvidia_device() {
        let dev = tempfile::tempdir().unwrap();
        assert!(software_gl_only(dev.path(), false), "no device at all");
        std::fs::create_dir(dev.path().join("dri")).unwrap();
        std::fs::write(dev.path().join("dri/card0"), "").unwrap();
        assert!(
            software_gl_only(dev.path(), false),
            "a display card without a render node draws nothing for OpenGL"
        );
        std::fs::write(dev.path().join("dri/renderD128"), "").unwrap();
        assert!(!software_gl_only(dev.path(), false), "a GPU");
        assert!(software_gl_only(dev.path(), true), "told to use software");

        let nvidia = tempfile::tempdir().unwrap();
        std::fs::write(nvidia.path().join("nvidia0"), "").unwrap();
        assert!(
            !software_gl_only(nvidia.path(), false),
            "NVIDIA's own driver"
        );
    }
}

//! The desktop app (eframe/egui): drop videos in, inspect them, pick a backend and a preset,
//! follow the queue. `vodkit` with no arguments opens it.

mod app;
mod editor;
mod files_view;
mod inspector;
mod library_view;
mod presets_view;
mod quality_tab;
mod queue_view;
mod settings;
mod settings_view;
mod virtual_list;
mod worker;

pub use app::{FileStatus, JobState, Tab, View, VodkitApp};
pub use editor::{Action, PresetEditor};
pub use quality_tab::{Layout, QualityTab};
pub use queue_view::Row;
pub use settings::{Backend, Settings};
pub use worker::{is_video, scan};

/// eframe's side of the app: hands every frame to [`VodkitApp::show`].
struct Window {
    app: VodkitApp,
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let size = ui.ctx().content_rect().size();
        self.app.settings.window_size = [size.x, size.y];
        self.app.show(ui);
    }
}

/// True when a display server is reachable (X11 or Wayland).
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// The window icon (the 256 px PNG of assets/icons, compiled in).
fn icon() -> egui::IconData {
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/vodkit-256.png"))
        .unwrap_or_default()
}

/// Opens the window and runs until it is closed, with `files` added and, when given, the
/// Quality tab of a title folder open. Returns a message when it cannot.
pub fn run(
    files: Vec<std::path::PathBuf>,
    quality: Option<std::path::PathBuf>,
    view: Option<View>,
) -> Result<(), String> {
    if !has_display() {
        return Err("no display: the desktop app needs X11 or Wayland (DISPLAY or WAYLAND_DISPLAY is not set).\n\
                    On a server, use the command line (vodkit --help), or run under Xvfb: xvfb-run -a vodkit"
            .to_owned());
    }
    let settings = Settings::load();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Vodkit")
            .with_app_id("vodkit")
            .with_inner_size(settings.window_size)
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true)
            .with_icon(icon()),
        ..Default::default()
    };
    eframe::run_native(
        "Vodkit",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            if std::env::var_os("EFRAME_SCREENSHOT_TO").is_some() {
                // eframe saves that screenshot after exactly the second pass; a table sizing its
                // columns asks for a second pass within a frame and that number is skipped, so
                // the app would never exit. One pass per frame while a screenshot is asked for.
                ctx.options_mut(|o| o.max_passes = std::num::NonZeroUsize::MIN);
            }
            let mut app = VodkitApp::new(settings, move || ctx.request_repaint());
            if let Some(dir) = &quality
                && let Err(e) = app.open_title_quality(dir, &files)
            {
                app.status = e;
            }
            app.add_paths(files);
            if let Some(view) = view {
                app.switch_to(view);
            }
            Ok(Box::new(Window { app }))
        }),
    )
    .map_err(|e| format!("the window could not open: {e}"))
}

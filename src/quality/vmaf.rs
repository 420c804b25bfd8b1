//! libvmaf (the real one, vendored and linked statically by `vmaf-head-sys`) behind a safe
//! type: a [`Scorer`] takes pairs of 8-bit 4:2:0 pictures of one size and gives, per frame,
//! the VMAF of the chosen built-in model, PSNR of Y, Cb and Cr (libvmaf's `psnr`, capped at
//! 60 dB for 8-bit as libvmaf does) and SSIM of Y (`float_ssim`): the same features and model
//! the `vmaf` command-line tool computes with `--model version=vmaf_v0.6.1 --feature psnr
//! --feature float_ssim`.

use std::ffi::{CStr, CString};
use std::ptr::{self, NonNull};

use ffmpeg_next::{format, frame};
use vmaf_head_sys as sys;

/// The built-in model for viewing up to 1080p.
pub const MODEL_HD: &str = "vmaf_v0.6.1";
/// The built-in model for 4K viewing (references taller than 1080 lines).
pub const MODEL_4K: &str = "vmaf_4k_v0.6.1";

/// The model VMAF practice uses for a reference of this size: the 4K model when the picture's
/// short side is above 1080 lines (a portrait 1080x1920 phone clip is 1080p, 2560x1440 is not).
pub fn model_for(width: u32, height: u32) -> &'static str {
    if width.min(height) > 1080 {
        MODEL_4K
    } else {
        MODEL_HD
    }
}

/// The version of the linked libvmaf.
pub fn version() -> String {
    // SAFETY: libvmaf returns a static NUL-terminated string.
    unsafe {
        let v = sys::vmaf_version();
        if v.is_null() {
            String::new()
        } else {
            CStr::from_ptr(v).to_string_lossy().into_owned()
        }
    }
}

/// What libvmaf measured on one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameScores {
    /// Position in the scored sequence (0 = the first pair pushed).
    pub index: u32,
    /// VMAF of the model, 0-100 (the model clips to that range).
    pub vmaf: f64,
    /// PSNR of luma, dB (60 for identical 8-bit pictures).
    pub psnr_y: f64,
    /// PSNR of Cb, dB.
    pub psnr_cb: f64,
    /// PSNR of Cr, dB.
    pub psnr_cr: f64,
    /// SSIM of luma, 0-1.
    pub ssim: f64,
}

/// A libvmaf context with its model, fed picture pairs one by one.
pub struct Scorer {
    ctx: NonNull<sys::VmafContext>,
    model: NonNull<sys::VmafModel>,
    width: u32,
    height: u32,
    every: u32,
    pushed: u32,
    model_name: &'static str,
}

// SAFETY: the context and model are owned by this value alone and libvmaf does not tie them to
// the thread that made them; `Scorer` is moved between threads, never shared.
unsafe impl Send for Scorer {}

fn check(code: i32, what: &str) -> Result<(), String> {
    if code < 0 {
        Err(format!("libvmaf: {what} failed (error {code})"))
    } else {
        Ok(())
    }
}

impl Scorer {
    /// A scorer for `width`x`height` pictures with a built-in model (see [`model_for`]),
    /// scoring every `every`-th frame (1: all; libvmaf still reads every frame for motion),
    /// on `threads` threads (0: the calling thread only).
    pub fn new(
        width: u32,
        height: u32,
        model_name: &'static str,
        every: u32,
        threads: u32,
    ) -> Result<Self, String> {
        if width < 16 || height < 16 {
            return Err(format!(
                "{width}x{height} is too small to score (VMAF needs at least 16x16)"
            ));
        }
        let cfg = sys::VmafConfiguration {
            log_level: sys::VmafLogLevel_VMAF_LOG_LEVEL_NONE,
            n_threads: threads,
            n_subsample: every.max(1),
            cpumask: 0,
            gpumask: 0,
        };
        let mut ctx = ptr::null_mut();
        // SAFETY: `ctx` is a valid out-pointer; libvmaf allocates the context.
        check(unsafe { sys::vmaf_init(&raw mut ctx, cfg) }, "opening")?;
        let ctx = NonNull::new(ctx).ok_or("libvmaf: no context")?;
        let name = CString::new(model_name).map_err(|e| e.to_string())?;
        let mut model_cfg = sys::VmafModelConfig {
            name: name.as_ptr(),
            flags: u64::from(sys::VmafModelFlags_VMAF_MODEL_FLAGS_DEFAULT),
        };
        let mut model = ptr::null_mut();
        // SAFETY: valid out-pointer, config and NUL-terminated version name.
        let loaded =
            unsafe { sys::vmaf_model_load(&raw mut model, &raw mut model_cfg, name.as_ptr()) };
        let Some(model) = NonNull::new(model).filter(|_| loaded >= 0) else {
            // SAFETY: the context was opened above and is not used again.
            unsafe { sys::vmaf_close(ctx.as_ptr()) };
            return Err(format!(
                "libvmaf has no built-in model '{model_name}' (error {loaded})"
            ));
        };
        let scorer = Self {
            ctx,
            model,
            width,
            height,
            every: every.max(1),
            pushed: 0,
            model_name,
        };
        // SAFETY: context and model are open; feature names are NUL-terminated literals.
        unsafe {
            check(
                sys::vmaf_use_features_from_model(ctx.as_ptr(), model.as_ptr()),
                "loading the model's features",
            )?;
            for feature in [c"psnr", c"float_ssim"] {
                check(
                    sys::vmaf_use_feature(ctx.as_ptr(), feature.as_ptr(), ptr::null_mut()),
                    "adding a feature",
                )?;
            }
        }
        Ok(scorer)
    }

    /// The model's name (`vmaf_v0.6.1`, `vmaf_4k_v0.6.1`).
    pub fn model_name(&self) -> &'static str {
        self.model_name
    }

    /// Scoring every N-th frame.
    pub fn every(&self) -> u32 {
        self.every
    }

    /// Pairs pushed so far.
    pub fn pushed(&self) -> u32 {
        self.pushed
    }

    /// Scores one pair: both 8-bit 4:2:0 at the scorer's size.
    pub fn push(
        &mut self,
        reference: &frame::Video,
        distorted: &frame::Video,
    ) -> Result<(), String> {
        let mut r = self.picture(reference)?;
        let mut d = match self.picture(distorted) {
            Ok(d) => d,
            Err(e) => {
                // SAFETY: `r` was allocated by libvmaf and not handed over.
                unsafe { sys::vmaf_picture_unref(&raw mut r) };
                return Err(e);
            }
        };
        // SAFETY: both pictures were allocated by libvmaf; it takes them over when it succeeds.
        let code = unsafe {
            sys::vmaf_read_pictures(self.ctx.as_ptr(), &raw mut r, &raw mut d, self.pushed)
        };
        if code < 0 {
            // On failure libvmaf may not have released them: those still holding a reference
            // are released here (unref clears the struct, so nothing is freed twice).
            for pic in [&raw mut r, &raw mut d] {
                // SAFETY: pictures allocated above; a cleared picture has a null ref.
                unsafe {
                    if !(*pic).ref_.is_null() {
                        sys::vmaf_picture_unref(pic);
                    }
                }
            }
        }
        check(code, "reading a picture pair")?;
        self.pushed += 1;
        Ok(())
    }

    /// A libvmaf picture holding a copy of `f`.
    fn picture(&self, f: &frame::Video) -> Result<sys::VmafPicture, String> {
        if f.format() != format::Pixel::YUV420P
            || f.width() != self.width
            || f.height() != self.height
        {
            return Err(format!(
                "a {}x{} {:?} picture given to a {}x{} yuv420p scorer",
                f.width(),
                f.height(),
                f.format(),
                self.width,
                self.height
            ));
        }
        // SAFETY: a zeroed VmafPicture is the "empty" value libvmaf's allocator fills in.
        let mut pic: sys::VmafPicture = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer and parameters.
        check(
            unsafe {
                sys::vmaf_picture_alloc(
                    &raw mut pic,
                    sys::VmafPixelFormat_VMAF_PIX_FMT_YUV420P,
                    8,
                    self.width,
                    self.height,
                )
            },
            "allocating a picture",
        )?;
        for plane in 0..3 {
            let (w, h) = (pic.w[plane] as usize, pic.h[plane] as usize);
            let (src, src_stride) = (f.data(plane), f.stride(plane));
            let dst_stride = usize::try_from(pic.stride[plane]).unwrap_or(0);
            if src_stride < w || dst_stride < w || src.len() < src_stride * (h - 1) + w {
                // SAFETY: allocated above, not handed over.
                unsafe { sys::vmaf_picture_unref(&raw mut pic) };
                return Err("a picture plane is smaller than its size says".to_owned());
            }
            for row in 0..h {
                // SAFETY: libvmaf allocated `h` rows of `dst_stride` bytes for this plane and
                // `w <= dst_stride`; the source row was bounds-checked above.
                unsafe {
                    ptr::copy_nonoverlapping(
                        src.as_ptr().add(row * src_stride),
                        pic.data[plane].cast::<u8>().add(row * dst_stride),
                        w,
                    );
                }
            }
        }
        Ok(pic)
    }

    /// Flushes libvmaf and returns the scores of every scored frame, in order.
    pub fn finish(self) -> Result<Vec<FrameScores>, String> {
        if self.pushed == 0 {
            return Ok(Vec::new());
        }
        let ctx = self.ctx.as_ptr();
        // SAFETY: an open context; null pictures mean "flush".
        check(
            unsafe { sys::vmaf_read_pictures(ctx, ptr::null_mut(), ptr::null_mut(), 0) },
            "flushing",
        )?;
        let feature = |name: &CStr, index: u32| -> Result<f64, String> {
            let mut v = 0.0;
            // SAFETY: open, flushed context; valid out-pointer and name.
            check(
                unsafe { sys::vmaf_feature_score_at_index(ctx, name.as_ptr(), &raw mut v, index) },
                "reading a score",
            )?;
            Ok(v)
        };
        let mut out = Vec::with_capacity((self.pushed / self.every + 1) as usize);
        for index in (0..self.pushed).step_by(self.every as usize) {
            let mut vmaf = 0.0;
            // SAFETY: open, flushed context with its model; valid out-pointer.
            check(
                unsafe { sys::vmaf_score_at_index(ctx, self.model.as_ptr(), &raw mut vmaf, index) },
                "computing VMAF",
            )?;
            out.push(FrameScores {
                index,
                vmaf,
                psnr_y: feature(c"psnr_y", index)?,
                psnr_cb: feature(c"psnr_cb", index)?,
                psnr_cr: feature(c"psnr_cr", index)?,
                ssim: feature(c"float_ssim", index)?,
            });
        }
        Ok(out)
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        // SAFETY: both were opened in `new` and are released once, here.
        unsafe {
            sys::vmaf_model_destroy(self.model.as_ptr());
            sys::vmaf_close(self.ctx.as_ptr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: u32, h: u32, seed: u32) -> frame::Video {
        let mut f = frame::Video::new(format::Pixel::YUV420P, w, h);
        for plane in 0..3 {
            let stride = f.stride(plane);
            let data = f.data_mut(plane);
            for (i, b) in data.iter_mut().enumerate() {
                let (x, y) = (i % stride, i / stride);
                *b = ((x * 7 + y * 13 + seed as usize * 31 + plane * 50) % 200 + 16) as u8;
            }
        }
        f
    }

    #[test]
    fn identical_pictures_score_at_the_top_and_noise_scores_lower() {
        crate::av::init();
        assert!(!version().is_empty());
        let (w, h) = (256, 144);
        let mut same = Scorer::new(w, h, MODEL_HD, 1, 0).expect("scorer");
        let mut noisy = Scorer::new(w, h, MODEL_HD, 1, 0).expect("scorer");
        for n in 0..4 {
            let r = picture(w, h, n);
            same.push(&r, &r).expect("push");
            // Blur the luma: average each pixel with its neighbours four apart.
            let mut d = picture(w, h, n);
            let stride = d.stride(0);
            let src = r.data(0).to_vec();
            for (i, b) in d.data_mut(0).iter_mut().enumerate() {
                let near =
                    |o: isize| src[(i as isize + o).clamp(0, src.len() as isize - 1) as usize];
                let s = stride as isize;
                *b = ((u32::from(near(-4))
                    + u32::from(near(4))
                    + u32::from(near(-4 * s))
                    + u32::from(near(4 * s)))
                    / 4) as u8;
            }
            noisy.push(&r, &d).expect("push");
        }
        let same = same.finish().expect("scores");
        let noisy = noisy.finish().expect("scores");
        assert_eq!(same.len(), 4);
        for s in &same {
            assert!(s.vmaf > 97.0, "{s:?}");
            assert!(s.psnr_y >= 60.0 && s.ssim > 0.999, "{s:?}");
        }
        for (a, b) in same.iter().zip(&noisy) {
            assert!(
                b.vmaf < a.vmaf - 5.0 && b.psnr_y < 40.0 && b.ssim < a.ssim,
                "{b:?}"
            );
        }
    }

    #[test]
    fn wrong_sizes_and_tiny_pictures_are_errors() {
        assert!(Scorer::new(8, 8, MODEL_HD, 1, 0).is_err());
        assert!(Scorer::new(64, 48, "no_such_model", 1, 0).is_err());
        let mut s = Scorer::new(64, 48, MODEL_HD, 1, 0).expect("scorer");
        let r = picture(64, 48, 0);
        let d = picture(32, 24, 0);
        assert!(s.push(&r, &d).unwrap_err().contains("32x24"));
        assert_eq!(model_for(1920, 1080), MODEL_HD);
        assert_eq!(model_for(1080, 1920), MODEL_HD, "portrait 1080p");
        assert_eq!(model_for(2048, 1080), MODEL_HD);
        assert_eq!(model_for(3840, 2160), MODEL_4K);
        assert_eq!(model_for(2160, 3840), MODEL_4K);
    }

    #[test]
    fn every_nth_frame_when_asked() {
        let mut s = Scorer::new(64, 48, MODEL_HD, 3, 0).expect("scorer");
        for n in 0..7 {
            let r = picture(64, 48, n);
            s.push(&r, &r).expect("push");
        }
        let idx: Vec<u32> = s
            .finish()
            .expect("scores")
            .iter()
            .map(|f| f.index)
            .collect();
        assert_eq!(idx, vec![0, 3, 6]);
    }
}

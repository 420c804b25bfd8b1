//! One rung's scoring: the reference pictures (the source after the encode's own preparation:
//! upright, deinterlaced, square pixels, tone-mapped, BT.709, constant rate; shared with the
//! encoders, never decoded twice) come in by source frame index, the rung's decoded pictures by
//! rung frame index; each pair is upscaled to the reference size with one fixed scaler
//! (bicubic, as VMAF practice wants) and handed to libvmaf.

use std::collections::BTreeMap;
use std::sync::Arc;

use ffmpeg_next::{format, frame, software};

use super::vmaf::{FrameScores, Scorer, model_for};

/// Pairs and scores one rung.
pub struct Meter {
    scorer: Scorer,
    reference_size: (u32, u32),
    /// Source frames per rung frame (2 for a half-rate rung).
    step: u64,
    /// References waiting for their rung picture, by rung frame index.
    pending: BTreeMap<u64, Arc<frame::Video>>,
    upscaler: Option<((u32, u32), software::scaling::Context)>,
    /// 10-bit references (an HDR rung's untouched pictures) to the scorer's 8 bits.
    reference_converter: Option<software::scaling::Context>,
    /// Rung pictures that found no reference (more pictures than the source has).
    unmatched: u64,
    /// References no rung picture came for.
    missed: u64,
    /// Every scored pair also written as Y4M (reference, distorted) for the `vmaf` tool.
    dump: Option<(Y4m, Y4m)>,
    /// The rung frame index of every pair pushed, in order (libvmaf numbers them 0, 1, ...).
    indices: Vec<u64>,
}

/// A Y4M file being written (4:2:0, 8-bit).
struct Y4m {
    out: std::io::BufWriter<std::fs::File>,
}

impl Y4m {
    fn create(path: &std::path::Path, (w, h): (u32, u32), fps: f64) -> Result<Self, String> {
        use std::io::Write as _;
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let rate = (fps * 1000.0).round().max(1.0) as u64;
        writeln!(out, "YUV4MPEG2 W{w} H{h} F{rate}:1000 Ip A1:1 C420jpeg")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(Self { out })
    }

    fn frame(&mut self, f: &frame::Video) -> Result<(), String> {
        use std::io::Write as _;
        let fail = |e: std::io::Error| format!("writing Y4M: {e}");
        self.out.write_all(b"FRAME\n").map_err(fail)?;
        for plane in 0..3 {
            let (w, h) = (
                f.plane_width(plane) as usize,
                f.plane_height(plane) as usize,
            );
            let stride = f.stride(plane);
            let data = f.data(plane);
            for row in 0..h {
                self.out
                    .write_all(&data[row * stride..row * stride + w])
                    .map_err(fail)?;
            }
        }
        Ok(())
    }
}

/// What a meter measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Per scored frame.
    pub scores: Vec<FrameScores>,
    /// Pairs compared.
    pub frames: u64,
    /// Rung pictures without a reference (the rung is longer than the source).
    pub unmatched: u64,
    /// References without a rung picture (the rung is shorter).
    pub missed: u64,
    /// Every N-th frame was scored.
    pub every: u32,
    /// The VMAF model used.
    pub model: &'static str,
    /// The reference size.
    pub reference_size: (u32, u32),
}

impl Meter {
    /// A meter against references of `reference_size`, for a rung taking every `step`-th
    /// source frame, scoring every `every`-th rung frame on `threads` libvmaf threads.
    pub fn new(
        reference_size: (u32, u32),
        step: u32,
        every: u32,
        threads: u32,
    ) -> Result<Self, String> {
        let (w, h) = reference_size;
        Ok(Self {
            scorer: Scorer::new(w, h, model_for(w, h), every, threads)?,
            reference_size,
            step: u64::from(step.max(1)),
            pending: BTreeMap::new(),
            upscaler: None,
            reference_converter: None,
            unmatched: 0,
            missed: 0,
            dump: None,
            indices: Vec::new(),
        })
    }

    /// Also writes every compared pair to `reference` and `distorted` (Y4M at `fps`), so the
    /// `vmaf` tool can score the very same pictures.
    pub fn dump_to(
        &mut self,
        reference: &std::path::Path,
        distorted: &std::path::Path,
        fps: f64,
    ) -> Result<(), String> {
        self.dump = Some((
            Y4m::create(reference, self.reference_size, fps)?,
            Y4m::create(distorted, self.reference_size, fps)?,
        ));
        Ok(())
    }

    /// Source frames per rung frame.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// A reference picture, source frame `source_index` of the prepared constant-rate
    /// sequence; kept only when the rung has a frame there.
    pub fn reference(&mut self, source_index: u64, picture: &Arc<frame::Video>) {
        if source_index.is_multiple_of(self.step) {
            self.pending
                .insert(source_index / self.step, Arc::clone(picture));
        }
    }

    /// The rung's picture `rung_index` (display order); scored against its reference, which
    /// must have come first. References older than it found no picture and are dropped.
    pub fn distorted(&mut self, rung_index: u64, picture: &frame::Video) -> Result<(), String> {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() >= rung_index {
                break;
            }
            entry.remove();
            self.missed += 1;
        }
        let Some(reference) = self.pending.remove(&rung_index) else {
            self.unmatched += 1;
            return Ok(());
        };
        let upscaled = self.upscale(picture)?;
        let distorted = upscaled.as_ref().unwrap_or(picture);
        let reference = if reference.format() == format::Pixel::YUV420P {
            reference
        } else {
            let (w, h) = (reference.width(), reference.height());
            if self.reference_converter.is_none() {
                self.reference_converter = Some(
                    software::scaling::Context::get(
                        reference.format(),
                        w,
                        h,
                        format::Pixel::YUV420P,
                        w,
                        h,
                        software::scaling::Flags::BICUBIC,
                    )
                    .map_err(|e| format!("cannot convert the reference to 8 bits: {e}"))?,
                );
            }
            let mut out = frame::Video::new(format::Pixel::YUV420P, w, h);
            if let Some(ctx) = self.reference_converter.as_mut() {
                ctx.run(&reference, &mut out)
                    .map_err(|e| format!("converting the reference: {e}"))?;
            }
            Arc::new(out)
        };
        if let Some((r, d)) = self.dump.as_mut() {
            r.frame(&reference)?;
            d.frame(distorted)?;
        }
        self.scorer.push(&reference, distorted)?;
        self.indices.push(rung_index);
        Ok(())
    }

    /// References still waiting (the encoder's delay, or the rung's lag when reading a file).
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// A reference the rung has no picture for (it ended): counted, not kept.
    pub fn missed_reference(&mut self, source_index: u64) {
        if source_index.is_multiple_of(self.step) {
            self.missed += 1;
        }
    }

    fn upscale(&mut self, picture: &frame::Video) -> Result<Option<frame::Video>, String> {
        let (w, h) = self.reference_size;
        let size = (picture.width(), picture.height());
        if size == (w, h) && picture.format() == format::Pixel::YUV420P {
            return Ok(None);
        }
        if self.upscaler.as_ref().is_none_or(|(s, _)| *s != size) {
            let ctx = software::scaling::Context::get(
                picture.format(),
                size.0,
                size.1,
                format::Pixel::YUV420P,
                w,
                h,
                software::scaling::Flags::BICUBIC,
            )
            .map_err(|e| format!("cannot scale {}x{} to {w}x{h}: {e}", size.0, size.1))?;
            self.upscaler = Some((size, ctx));
        }
        let mut out = frame::Video::new(format::Pixel::YUV420P, w, h);
        if let Some((_, ctx)) = self.upscaler.as_mut() {
            ctx.run(picture, &mut out)
                .map_err(|e| format!("scaling for scoring: {e}"))?;
        }
        Ok(Some(out))
    }

    /// Ends the rung: the scores and how well the sequences matched.
    pub fn finish(mut self) -> Result<Measured, String> {
        if let Some((mut r, mut d)) = self.dump.take() {
            use std::io::Write as _;
            r.out
                .flush()
                .and_then(|()| d.out.flush())
                .map_err(|e| format!("writing Y4M: {e}"))?;
        }
        self.missed += self.pending.len() as u64;
        self.pending.clear();
        let model = self.scorer.model_name();
        let frames = u64::from(self.scorer.pushed());
        let every = self.scorer.every();
        let mut scores = self.scorer.finish()?;
        // Scores carry the rung frame index (its time), not the order pairs were pushed in.
        for s in &mut scores {
            if let Some(&n) = self.indices.get(s.index as usize) {
                s.index = u32::try_from(n).unwrap_or(u32::MAX);
            }
        }
        Ok(Measured {
            every,
            scores,
            frames,
            unmatched: self.unmatched,
            missed: self.missed,
            model,
            reference_size: self.reference_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: u32, h: u32, luma: u8) -> frame::Video {
        let mut f = frame::Video::new(format::Pixel::YUV420P, w, h);
        for plane in 0..3 {
            let v = if plane == 0 { luma } else { 128 };
            f.data_mut(plane).fill(v);
        }
        f
    }

    #[test]
    fn pairs_by_index_at_a_reduced_rate_and_counts_what_is_missing() {
        crate::av::init();
        let mut m = Meter::new((64, 48), 2, 1, 0).expect("meter");
        // Source frames 0..8: the half-rate rung has frames 0..4 at source frames 0, 2, 4, 6.
        for i in 0..8 {
            m.reference(i, &Arc::new(flat(64, 48, 100)));
        }
        assert_eq!(m.waiting(), 4);
        m.distorted(0, &flat(32, 24, 100)).expect("0");
        m.distorted(2, &flat(32, 24, 100))
            .expect("2 (1 is missing)");
        m.distorted(3, &flat(32, 24, 100)).expect("3");
        m.distorted(9, &flat(32, 24, 100)).expect("no reference");
        let got = m.finish().expect("finish");
        assert_eq!((got.frames, got.missed, got.unmatched), (3, 1, 1));
        assert_eq!(got.scores.len(), 3);
        assert!(
            got.scores.iter().all(|s| s.psnr_y >= 59.0),
            "{:?}",
            got.scores
        );
        assert_eq!(got.model, "vmaf_v0.6.1");
    }
}

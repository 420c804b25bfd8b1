//! MediaConvert job templates from presets (`vodkit cloud template push|list`), so a team's
//! other tools (the console, Lambda functions, other pipelines) start jobs with a Vodkit preset
//! by name, and jobs that run a template (`vodkit cloud submit --template`).
//!
//! A template knows no source, so it is the preset's job for a stand-in source: a 3840x2160,
//! 29.97 fps, BT.709 picture with stereo sound and no stated bitrate. Each rung is the preset's
//! box at its size with `FIT_NO_UPSCALE` scaling (MediaConvert keeps the real source's aspect
//! ratio and never upscales, as Vodkit's plan does), no bitrate cap from a source, and the
//! preset's encoder settings, audio, MP4 group and CMAF packaging. What depends on the real
//! source is left out: the input file, output destinations (the job names them), stills
//! (their times follow the duration), subtitle files and HDR decisions. AV1 presets are
//! refused: MediaConvert counts an AV1 GOP in frames, which a template cannot know.

use serde_json::{Value, json};

use super::CloudError;
use super::clients::Clients;
use super::errors::On;
use super::job_spec::{JobPlace, JobTarget, create_job_request};
use crate::preset::Preset;
use crate::probe::MediaInfo;

/// The template name Vodkit gives a preset: `vodkit-<preset>`.
pub fn template_name(preset: &Preset) -> String {
    format!("vodkit-{}", preset.name)
}

/// The stand-in source a template is planned for, as `vodkit probe --json` writes one.
const STAND_IN_SOURCE: &str = r#"{
  "path": "template-source.mp4", "title": "template-source",
  "container": "mov,mp4,m4a,3gp,3g2,mj2", "container_long": null, "duration_secs": 600.0,
  "size_bytes": 1, "bitrate_bps": null, "creation_time": null, "location": null,
  "streams": [
    {"index": 0, "kind": "video", "codec": "h264", "profile": "High", "bitrate_bps": null,
     "duration_secs": 600.0, "start_secs": 0.0, "language": null, "title": null,
     "flags": ["default"], "audio": null,
     "video": {"level": "5.1", "width": 3840, "height": 2160, "sample_aspect_ratio": "1:1",
       "display_aspect_ratio": "16:9", "rotation_deg": 0, "display_width": 3840,
       "display_height": 2160, "avg_frame_rate": 29.97002997002997,
       "avg_frame_rate_ratio": "30000/1001", "real_frame_rate": 29.97002997002997,
       "variable_frame_rate": false, "frame_count": null, "pixel_format": "yuv420p",
       "bit_depth": 8, "color_primaries": "bt709", "color_transfer": "bt709",
       "color_matrix": "bt709", "color_range": "tv", "hdr": null,
       "field_order": "progressive", "interlaced": false}},
    {"index": 1, "kind": "audio", "codec": "aac", "profile": "LC", "bitrate_bps": null,
     "duration_secs": 600.0, "start_secs": 0.0, "language": null, "title": null,
     "flags": ["default"], "video": null,
     "audio": {"channels": 2, "channel_layout": "stereo", "sample_rate_hz": 48000}}
  ],
  "warnings": []
}"#;

/// The stand-in source a template is planned for.
fn stand_in_source() -> MediaInfo {
    // Every field as probe writes it; a literal cannot fail to deserialize.
    serde_json::from_str(STAND_IN_SOURCE)
        .unwrap_or_else(|e| unreachable!("the stand-in source is a valid probe result: {e}"))
}

/// The CreateJobTemplate request for a preset (API member names).
pub fn template_request(preset: &Preset, queue: Option<&str>) -> Result<Value, String> {
    let info = stand_in_source();
    let plan = crate::plan::plan(&info, preset).map_err(|e| e.to_string())?;
    if let Some(r) = plan
        .made_rungs()
        .find(|r| r.codec == crate::preset::Codec::Av1)
    {
        return Err(format!(
            "preset '{}' has AV1 rungs ({}); MediaConvert counts an AV1 GOP in frames, so a template (which knows no frame rate) cannot keep its key frames on the 2 s grid of the other rungs; submit AV1 presets per file (vodkit cloud submit)",
            preset.name, r.name
        ));
    }
    if plan.made_rungs().next().is_none() {
        return Err(format!(
            "preset '{}' makes no video; a job template needs at least one rung",
            preset.name
        ));
    }
    let target = JobTarget {
        bucket: "template".to_owned(),
        prefix: String::new(),
        role_arn: String::new(),
        queue: None,
    };
    let place = JobPlace {
        input_url: String::new(),
        output_url: String::new(),
    };
    let job = create_job_request(&plan, preset, &target, &place);
    let mut settings = job["Settings"].clone();
    if let Some(inputs) = settings["Inputs"].as_array_mut() {
        for input in inputs {
            if let Some(i) = input.as_object_mut() {
                i.remove("FileInput");
                i.remove("CaptionSelectors");
            }
        }
    }
    if let Some(groups) = settings["OutputGroups"].as_array_mut() {
        // Stills follow the real duration and subtitle files the real sidecars.
        groups.retain(|g| {
            let name = g["Name"].as_str().unwrap_or("");
            name != "Stills" && !name.starts_with("Subtitles ")
        });
        for g in groups.iter_mut() {
            if let Some(kind) = g["OutputGroupSettings"].as_object_mut() {
                for (_, group_settings) in kind.iter_mut() {
                    if let Some(o) = group_settings.as_object_mut() {
                        o.remove("Destination");
                    }
                }
            }
            for o in g["Outputs"].as_array_mut().into_iter().flatten() {
                if o["VideoDescription"].is_object() {
                    o["VideoDescription"]["ScalingBehavior"] = json!("FIT_NO_UPSCALE");
                }
            }
        }
    }
    let mut request = json!({
        "Name": template_name(preset),
        "Description": format!(
            "Vodkit preset '{}': {} (outputs fitted inside each rung's box, never upscaled)",
            preset.name, preset.description
        ),
        "Category": "vodkit",
        "Settings": settings,
        "StatusUpdateInterval": "SECONDS_10",
    });
    if let Some(q) = queue {
        request["Queue"] = json!(q);
    }
    Ok(request)
}

/// What `push` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// A new template.
    Created,
    /// A template of that name was there and now has the preset's settings.
    Updated,
}

/// Sends a request body (our JSON, in MediaConvert's wire names) with an SDK call whose own
/// builder only carries the path parameters.
macro_rules! with_body {
    ($call:expr, $request:expr) => {{
        let bytes = bytes::Bytes::from(
            serde_json::to_vec(&super::wire::to_wire($request)).unwrap_or_default(),
        );
        $call.customize().mutate_request(move |req| {
            req.headers_mut()
                .insert("content-length", bytes.len().to_string());
            req.headers_mut().insert("content-type", "application/json");
            *req.body_mut() = aws_smithy_types::body::SdkBody::from(bytes.clone());
        })
    }};
}

/// Creates the template, or updates the one of that name.
pub async fn push(clients: &Clients, request: &Value) -> Result<Pushed, CloudError> {
    let name = request["Name"].as_str().unwrap_or_default().to_owned();
    let created = with_body!(
        clients.mediaconvert.create_job_template().name(&name),
        request
    )
    .send()
    .await;
    match created {
        Ok(_) => Ok(Pushed::Created),
        Err(e)
            if e.as_service_error()
                .and_then(aws_sdk_mediaconvert::error::ProvideErrorMetadata::code)
                == Some("ConflictException") =>
        {
            with_body!(
                clients.mediaconvert.update_job_template().name(&name),
                request
            )
            .send()
            .await
            .map_err(|e| {
                clients.explain(
                    &e,
                    &format!("updating the job template {name}"),
                    On::MediaConvert("mediaconvert:UpdateJobTemplate"),
                )
            })?;
            Ok(Pushed::Updated)
        }
        Err(e) => Err(clients.explain(
            &e,
            &format!("creating the job template {name}"),
            On::MediaConvert("mediaconvert:CreateJobTemplate"),
        )),
    }
}

/// One output group of a job template: its name and type (`FILE_GROUP_SETTINGS`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateGroup {
    /// The group's name (Vodkit's: `File Group`, `CMAF`).
    pub name: Option<String>,
    /// MediaConvert's group type.
    pub kind: String,
}

/// The output groups of the job template `name`; an error says how to make a missing one.
pub async fn template_groups(
    clients: &Clients,
    name: &str,
) -> Result<Vec<TemplateGroup>, CloudError> {
    let got = clients
        .mediaconvert
        .get_job_template()
        .name(name)
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error()
                .and_then(aws_sdk_mediaconvert::error::ProvideErrorMetadata::code)
                == Some("NotFoundException")
            {
                return CloudError::new(format!(
                    "there is no job template '{name}' in {}: `vodkit cloud template push PRESET` makes vodkit-PRESET, `vodkit cloud template list` lists them",
                    clients.region
                ));
            }
            clients.explain(
                &e,
                &format!("reading the job template {name}"),
                On::MediaConvert("mediaconvert:GetJobTemplate"),
            )
        })?;
    // Every group, in order: the job's groups are merged onto the template's by position.
    let groups = got
        .job_template()
        .and_then(|t| t.settings())
        .map(|s| s.output_groups())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let kind = g
                .output_group_settings()
                .and_then(|s| s.r#type())
                .ok_or_else(|| {
                    CloudError::new(format!(
                        "output group {} of the job template '{name}' has no type",
                        i + 1
                    ))
                })?;
            Ok(TemplateGroup {
                name: g.name().map(str::to_owned),
                kind: kind.as_str().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, CloudError>>()?;
    if groups.is_empty() {
        return Err(CloudError::new(format!(
            "the job template '{name}' has no output groups"
        )));
    }
    Ok(groups)
}

/// Why a source cannot run a job template, in words (empty: it can). A template was planned
/// for a stand-in (3840x2160 landscape, BT.709 SDR, progressive, one stereo track, no
/// subtitles burned in); what Vodkit's own job would set per output for this source (rotation,
/// HDR, deinterlacing, colour conversion, more audio tracks, burned-in subtitles) lives in the
/// outputs the template fixes, so such a source would come out otherwise than planned.
pub fn unfit_for_template(plan: &crate::plan::Plan) -> Vec<&'static str> {
    let t = &plan.transform;
    let mut why = Vec::new();
    let portrait = plan.source_display.is_some_and(|(w, h)| h > w);
    if t.rotate_deg != 0 || portrait {
        why.push("it is rotated or portrait (the template's boxes are landscape)");
    }
    if t.hdr_to_sdr.is_some() || plan.rungs.iter().any(|r| r.hdr.is_some()) {
        why.push("it is HDR (tone mapping or HDR rungs are set per source)");
    }
    if t.deinterlace {
        why.push("it is interlaced (deinterlacing is set per source)");
    }
    if t.colour.matrix != "bt709" || t.colour.full_range || t.colour.wide_gamut {
        why.push("its colours need converting to BT.709 (set per source)");
    }
    if plan.audio.is_none() {
        why.push("it has no sound (the template's outputs expect a track)");
    }
    if !plan.extra_audio.is_empty() {
        why.push("it has more than one audio track (the template carries one)");
    }
    if plan.subtitles.iter().any(|s| s.burned) {
        why.push("it has subtitles to burn in");
    }
    if plan.per_title.is_some() {
        why.push("its ladder is fitted per title (the template's rungs are fixed)");
    }
    why
}

/// The member of `OutputGroupSettings` that holds a group type's settings.
fn group_settings_member(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "FILE_GROUP_SETTINGS" => "FileGroupSettings",
        "CMAF_GROUP_SETTINGS" => "CmafGroupSettings",
        "HLS_GROUP_SETTINGS" => "HlsGroupSettings",
        "DASH_ISO_GROUP_SETTINGS" => "DashIsoGroupSettings",
        "MS_SMOOTH_GROUP_SETTINGS" => "MsSmoothGroupSettings",
        _ => return None,
    })
}

/// The CreateJob request that runs the job template `name` on one source: `request` is the
/// job Vodkit would submit for the plan (its input, with selectors, crop and captions, its
/// role, queue and metadata). The template gives the outputs; the job names the source and,
/// for each of the template's output groups, where it writes (what `template push` left
/// out): the destination of the plan's group of the same name, else the output folder. The
/// groups a template cannot hold (stills, subtitle files) follow as the job's own, after the
/// template's, as MediaConvert adds a job's extra groups to the template's.
pub fn job_from_template(
    request: &Value,
    name: &str,
    groups: &[TemplateGroup],
    output_url: &str,
) -> Result<Value, String> {
    let title = request["UserMetadata"]["title"]
        .as_str()
        .unwrap_or("output");
    let planned = request["Settings"]["OutputGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The destination of the plan's group of the same name; else, by type, where a job of
    // the preset writes that kind of group (the rungs named after the title, a package's
    // manifests `index.*`), so the download and `serve` find them.
    let destination_of = |group_name: Option<&str>, kind: &str| -> String {
        let same_name = planned
            .iter()
            .find(|g| group_name.is_some_and(|n| g["Name"] == n))
            .and_then(|g| g["OutputGroupSettings"].as_object())
            .and_then(|o| o.values().find_map(|v| v["Destination"].as_str()));
        match (same_name, kind) {
            (Some(d), _) => d.to_owned(),
            (None, "FILE_GROUP_SETTINGS") => format!("{output_url}{title}"),
            _ => format!("{output_url}index"),
        }
    };
    let mut out_groups = Vec::new();
    for g in groups {
        let member = group_settings_member(&g.kind).ok_or_else(|| {
            format!(
                "the job template '{name}' has a {} output group, which Vodkit cannot direct to the output folder",
                g.kind
            )
        })?;
        let mut group = json!({
            "OutputGroupSettings": {
                "Type": g.kind,
                member: { "Destination": destination_of(g.name.as_deref(), &g.kind) },
            }
        });
        if let Some(n) = &g.name {
            group["Name"] = json!(n);
        }
        out_groups.push(group);
    }
    out_groups.extend(
        planned
            .iter()
            .filter(|g| {
                let n = g["Name"].as_str().unwrap_or_default();
                (n == "Stills" || n.starts_with("Subtitles "))
                    && !groups.iter().any(|t| t.name.as_deref() == Some(n))
            })
            .cloned(),
    );
    let mut job = json!({
        "JobTemplate": name,
        "Role": request["Role"],
        "Settings": {
            "Inputs": request["Settings"]["Inputs"],
            "OutputGroups": out_groups,
        },
    });
    for member in [
        "Queue",
        "UserMetadata",
        "StatusUpdateInterval",
        "BillingTagsSource",
    ] {
        if !request[member].is_null() {
            job[member] = request[member].clone();
        }
    }
    job["UserMetadata"]["template"] = json!(name);
    Ok(job)
}

/// A job template as `template list` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TemplateRow {
    /// Its name.
    pub name: String,
    /// Its category (`vodkit` for Vodkit's).
    pub category: Option<String>,
    /// Its description.
    pub description: Option<String>,
}

/// Every custom job template of the account and region, by name.
pub async fn list(clients: &Clients) -> Result<Vec<TemplateRow>, CloudError> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .mediaconvert
            .list_job_templates()
            .list_by(aws_sdk_mediaconvert::types::JobTemplateListBy::Name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                clients.explain(
                    &e,
                    "listing job templates",
                    On::MediaConvert("mediaconvert:ListJobTemplates"),
                )
            })?;
        // The account's own templates; MediaConvert's system presets are not listed.
        rows.extend(
            page.job_templates()
                .iter()
                .filter(|t| t.r#type() != Some(&aws_sdk_mediaconvert::types::Type::System))
                .map(|t| TemplateRow {
                    name: t.name().unwrap_or_default().to_owned(),
                    category: t.category().map(str::to_owned),
                    description: t.description().map(str::to_owned),
                }),
        );
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => return Ok(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::store::builtin;

    #[test]
    fn a_job_by_template_names_the_source_and_where_each_group_writes() {
        let web = builtin("web-ladder").expect("web-ladder");
        let info = crate::plan::tests::info_1080p(60.0);
        let plan = crate::plan::plan(&info, &web).expect("plan");
        let target = JobTarget {
            bucket: "b".into(),
            prefix: "vod".into(),
            role_arn: "arn:aws:iam::123456789012:role/R".into(),
            queue: None,
        };
        let place = target.place(&plan, "0123456789abcdef");
        let request = create_job_request(&plan, &web, &target, &place);
        let groups = [
            TemplateGroup {
                name: Some("File Group".into()),
                kind: "FILE_GROUP_SETTINGS".into(),
            },
            TemplateGroup {
                name: Some("CMAF".into()),
                kind: "CMAF_GROUP_SETTINGS".into(),
            },
        ];
        let job = job_from_template(&request, "vodkit-web-ladder", &groups, &place.output_url)
            .expect("job");
        assert_eq!(job["JobTemplate"], "vodkit-web-ladder");
        assert_eq!(job["Role"], request["Role"]);
        assert_eq!(job["Settings"]["Inputs"], request["Settings"]["Inputs"]);
        let out = job["Settings"]["OutputGroups"].as_array().expect("groups");
        // The template's two groups, each told where to write as the plan's would, then stills.
        let names: Vec<&str> = out.iter().filter_map(|g| g["Name"].as_str()).collect();
        assert_eq!(names, ["File Group", "CMAF", "Stills"]);
        for (g, planned) in out[..groups.len()].iter().zip(
            request["Settings"]["OutputGroups"]
                .as_array()
                .expect("planned"),
        ) {
            assert_eq!(g["OutputGroupSettings"], {
                let kind = planned["OutputGroupSettings"]["Type"]
                    .as_str()
                    .expect("type");
                let member = group_settings_member(kind).expect("member");
                json!({ "Type": kind, member: { "Destination": planned["OutputGroupSettings"][member]["Destination"] } })
            });
            assert!(g.get("Outputs").is_none(), "the outputs are the template's");
        }
        assert_eq!(job["UserMetadata"]["template"], "vodkit-web-ladder");
        // A group type Vodkit cannot direct is refused by name.
        let odd = [TemplateGroup {
            name: None,
            kind: "SOMETHING_NEW".into(),
        }];
        let e = job_from_template(&request, "t", &odd, &place.output_url).expect_err("refused");
        assert!(e.contains("SOMETHING_NEW"), "{e}");
    }

    #[test]
    fn a_template_carries_the_ladder_but_nothing_of_a_source() {
        let web = builtin("web-ladder").expect("web-ladder");
        let t = template_request(&web, None).expect("template");
        assert_eq!(t["Name"], "vodkit-web-ladder");
        let settings = &t["Settings"];
        assert!(settings["Inputs"][0].get("FileInput").is_none());
        let groups = settings["OutputGroups"].as_array().expect("groups");
        let names: Vec<&str> = groups.iter().filter_map(|g| g["Name"].as_str()).collect();
        assert_eq!(names, ["File Group", "CMAF"]);
        // Every rung of the preset, fitted inside its box and never upscaled.
        let outputs = groups[0]["Outputs"].as_array().expect("outputs");
        assert_eq!(outputs.len(), web.rungs.len());
        for (o, r) in outputs.iter().zip(&web.rungs) {
            assert_eq!(o["VideoDescription"]["Width"], r.width);
            assert_eq!(o["VideoDescription"]["ScalingBehavior"], "FIT_NO_UPSCALE");
        }
        assert!(
            groups[0]["OutputGroupSettings"]["FileGroupSettings"]
                .get("Destination")
                .is_none()
        );
        let audio_only = builtin("podcast-audio").expect("podcast-audio");
        assert!(template_request(&audio_only, None).is_err());
    }
}

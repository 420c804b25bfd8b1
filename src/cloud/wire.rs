//! The CreateJob request as it travels: MediaConvert's REST-JSON protocol names members in
//! lowerCamelCase (`settings`, `outputGroups`, `h264Settings`), while the API reference, the
//! console's job JSON and `--cli-input-json` use the member names (`Settings`, `OutputGroups`).
//! [`to_wire`] turns the one into the other; keys of map members (audio selector names, user
//! metadata, tags) are data and stay as they are.

use serde_json::{Map, Value};

/// Members whose value is a map with user-chosen keys.
const MAP_MEMBERS: [&str; 6] = [
    "UserMetadata",
    "Tags",
    "AudioSelectors",
    "AudioSelectorGroups",
    "CaptionSelectors",
    "DynamicAudioSelectors",
];

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The wire form of a request written with API member names.
pub fn to_wire(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut out = Map::new();
            for (name, v) in members {
                let converted = if MAP_MEMBERS.contains(&name.as_str()) {
                    match v {
                        Value::Object(entries) => Value::Object(
                            entries
                                .iter()
                                .map(|(k, item)| (k.clone(), to_wire(item)))
                                .collect(),
                        ),
                        other => to_wire(other),
                    }
                } else {
                    to_wire(v)
                };
                out.insert(lower_first(name), converted);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_wire).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_become_lower_camel_and_map_keys_stay() {
        let api = json!({
            "Role": "r",
            "UserMetadata": { "Source": "a.mov" },
            "Settings": { "Inputs": [{
                "AudioSelectors": { "Audio Selector 1": { "DefaultSelection": "DEFAULT" } },
                "FileInput": "s3://b/k"
            }], "OutputGroups": [{ "Outputs": [{ "VideoDescription": { "CodecSettings": {
                "Codec": "H_264", "H264Settings": { "QvbrSettings": { "QvbrQualityLevel": 7 } }
            }}}]}]}
        });
        let wire = to_wire(&api);
        assert_eq!(wire["role"], "r");
        assert_eq!(wire["userMetadata"]["Source"], "a.mov");
        let input = &wire["settings"]["inputs"][0];
        assert_eq!(
            input["audioSelectors"]["Audio Selector 1"]["defaultSelection"],
            "DEFAULT"
        );
        assert_eq!(input["fileInput"], "s3://b/k");
        let codec =
            &wire["settings"]["outputGroups"][0]["outputs"][0]["videoDescription"]["codecSettings"];
        assert_eq!(codec["h264Settings"]["qvbrSettings"]["qvbrQualityLevel"], 7);
        assert_eq!(codec["codec"], "H_264");
    }
}

//! Turning properties and values into form fields, and form posts back into raw values.

use std::collections::HashMap;

use crate::db::properties::Property;
use crate::domain::FieldErrors;
use crate::domain::property::{
    Access, PropertyKind, PropertyType, RawValue, Value, countries, languages,
};
use crate::handlers::page::PageContext;
use crate::services::profiles::{Editor, ProfileEdit};

/// The prefix of property fields in forms: `p_<technical name>`.
pub const FIELD_PREFIX: &str = "p_";
const LAT_SUFFIX: &str = "__lat";
const LNG_SUFFIX: &str = "__lng";

/// One option of a select or checkbox group.
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One property as a page shows it: read-only, or as a form input.
pub struct FieldView {
    pub key: String,
    pub name: String,
    pub label: String,
    pub type_label: &'static str,
    /// `text`, `decimal`, `date`, `time`, `email`, `tel`, `textarea`, `select`, `checkboxes`, `location`.
    pub input: &'static str,
    pub editable: bool,
    pub display: String,
    pub map_url: Option<String>,
    pub text: String,
    pub latitude: String,
    pub longitude: String,
    pub options: Vec<OptionView>,
    pub error: Option<String>,
}

/// Fields grouped as the profile shows them.
#[derive(Default)]
pub struct FieldGroups {
    pub standard: Vec<FieldView>,
    pub custom: Vec<FieldView>,
    pub computed: Vec<FieldView>,
}

impl FieldGroups {
    /// Whether any field can be edited (to show the Save button).
    pub fn any_editable(&self) -> bool {
        self.standard.iter().chain(&self.custom).any(|f| f.editable)
    }
}

/// What the form showed when it was submitted, to keep what the user typed.
#[derive(Default)]
pub struct Submitted {
    fields: HashMap<String, Vec<String>>,
}

impl Submitted {
    /// Groups a URL-encoded form by field name.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            fields.entry(name.clone()).or_default().push(value.clone());
        }
        Submitted { fields }
    }

    /// The first value of a field.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The property edit this form asks for. Every property field present is included,
    /// editable or not: the service refuses the ones the editor may not change.
    pub fn to_edit(&self, properties: &[Property], with_lifecycle: bool) -> ProfileEdit {
        let mut keys: Vec<String> = self
            .fields
            .keys()
            .filter_map(|name| name.strip_prefix(FIELD_PREFIX))
            .map(|rest| {
                rest.strip_suffix(LAT_SUFFIX)
                    .or_else(|| rest.strip_suffix(LNG_SUFFIX))
                    .unwrap_or(rest)
                    .to_owned()
            })
            .collect();
        keys.sort();
        keys.dedup();
        let values = keys
            .into_iter()
            .map(|key| {
                let name = format!("{FIELD_PREFIX}{key}");
                let all = self.fields.get(&name).cloned().unwrap_or_default();
                let ty = properties.iter().find(|p| p.key == key).map(|p| p.ty);
                let raw = match ty {
                    Some(PropertyType::MultipleChoice) => RawValue::Many(all),
                    Some(PropertyType::Location) => RawValue::Location {
                        address: all.first().cloned().unwrap_or_default(),
                        latitude: self
                            .first(&format!("{name}{LAT_SUFFIX}"))
                            .unwrap_or_default()
                            .to_owned(),
                        longitude: self
                            .first(&format!("{name}{LNG_SUFFIX}"))
                            .unwrap_or_default()
                            .to_owned(),
                    },
                    _ => RawValue::One(all.first().cloned().unwrap_or_default()),
                };
                (key, raw)
            })
            .collect();
        ProfileEdit {
            values,
            lifecycle: if with_lifecycle {
                self.first("lifecycle").map(str::to_owned)
            } else {
                None
            },
        }
    }
}

/// Builds the fields a reader may see, with current values, or what they submitted when a
/// form is shown again.
pub fn field_groups(
    ctx: &PageContext,
    properties: &[Property],
    values: &HashMap<String, Value>,
    editor: Editor,
    submitted: Option<&Submitted>,
    errors: &FieldErrors,
) -> FieldGroups {
    let mut groups = FieldGroups::default();
    for property in properties {
        let access = editor.access(property);
        if access == Access::Hidden {
            continue;
        }
        let mut field = field_view(
            ctx,
            property,
            values.get(&property.key),
            access == Access::Edit,
            submitted,
            errors,
        );
        // Customers are asked for an address, never for coordinates: those they hold pass
        // through unchanged.
        if editor == Editor::Customer && field.input == "location" {
            field.input = "address";
        }
        match property.kind {
            PropertyKind::Standard => groups.standard.push(field),
            PropertyKind::Custom => groups.custom.push(field),
            PropertyKind::Computed => groups.computed.push(field),
        }
    }
    groups
}

pub fn field_view(
    ctx: &PageContext,
    property: &Property,
    value: Option<&Value>,
    editable: bool,
    submitted: Option<&Submitted>,
    errors: &FieldErrors,
) -> FieldView {
    let name = format!("{FIELD_PREFIX}{}", property.key);
    let typed = submitted.filter(|s| s.fields.contains_key(&name));
    let (mut text, mut latitude, mut longitude) = match value {
        Some(Value::Location {
            address,
            latitude,
            longitude,
        }) => (
            address.clone(),
            latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        Some(v) => (v.form_text(), String::new(), String::new()),
        None => (String::new(), String::new(), String::new()),
    };
    let mut selected: Vec<String> = match value {
        Some(Value::Choices { choices }) => choices.clone(),
        Some(Value::Text { text }) => vec![text.clone()],
        _ => Vec::new(),
    };
    if let Some(form) = typed {
        let all = form.fields.get(&name).cloned().unwrap_or_default();
        text = all.first().cloned().unwrap_or_default();
        selected = all;
        latitude = form
            .first(&format!("{name}{LAT_SUFFIX}"))
            .unwrap_or_default()
            .to_owned();
        longitude = form
            .first(&format!("{name}{LNG_SUFFIX}"))
            .unwrap_or_default()
            .to_owned();
    }
    let display = match (value, property.ty) {
        (Some(Value::Text { text }), PropertyType::DateTime) => parse_stored_time(text)
            .map(|at| ctx.time(at))
            .unwrap_or_else(|| text.clone()),
        (Some(v), ty) => v.display(ty),
        (None, _) => String::new(),
    };
    let options = match property.ty {
        PropertyType::SingleChoice | PropertyType::MultipleChoice => property
            .choices
            .iter()
            .map(|c| OptionView {
                value: c.clone(),
                label: c.clone(),
                selected: selected.contains(c),
            })
            .collect(),
        PropertyType::Country if editable => countries()
            .into_iter()
            .map(|(code, name)| OptionView {
                value: code.to_owned(),
                selected: text.eq_ignore_ascii_case(code),
                label: name,
            })
            .collect(),
        PropertyType::Language if editable => languages()
            .into_iter()
            .map(|(code, name)| OptionView {
                value: code.to_owned(),
                selected: text.eq_ignore_ascii_case(code),
                label: name.to_owned(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let input = match property.ty {
        PropertyType::Number => "decimal",
        PropertyType::Text if property.kind == PropertyKind::Custom => "textarea",
        PropertyType::Date => "date",
        PropertyType::Time => "time",
        PropertyType::Email => "email",
        PropertyType::Phone => "tel",
        PropertyType::SingleChoice | PropertyType::Country | PropertyType::Language => "select",
        PropertyType::MultipleChoice => "checkboxes",
        PropertyType::Location => "location",
        _ => "text",
    };
    FieldView {
        key: property.key.clone(),
        label: property.label.clone(),
        type_label: property.ty.label(),
        input,
        editable,
        map_url: value.and_then(Value::map_url),
        display,
        text,
        latitude,
        longitude,
        options,
        error: errors.get(&property.key).map(str::to_owned),
        name,
    }
}

/// Reads a computed time back from its stored text.
pub fn parse_stored_time(text: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

/// The refusal of a profile form that came without a readable `version`: without it, the
/// save could silently undo a colleague's change, so nothing is saved (the form shows
/// again with what was typed and the current version).
pub fn version_missing() -> FieldErrors {
    let mut errors = FieldErrors::default();
    errors.push(
        "version",
        "Nothing was saved: the form came without the version it was based on, so it could undo a colleague's change. What you typed is below; save again.",
    );
    errors
}

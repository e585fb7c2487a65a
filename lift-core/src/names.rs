//! One spelling per enum value: clap's [`ValueEnum`](clap::ValueEnum) names (kebab-case unless a
//! variant says otherwise) serve the command line, `Display` (file names, reports), `FromStr`
//! and serde (configs and JSON files).

/// Implements `Display`, `FromStr`, `Serialize` and `Deserialize` for a `clap::ValueEnum` from
/// its value names.
#[macro_export]
macro_rules! value_enum_names {
    ($($t:ty),+ $(,)?) => {$(
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let value = ::clap::ValueEnum::to_possible_value(self).expect("no skipped variants");
                f.write_str(value.get_name())
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = ::anyhow::Error;
            fn from_str(s: &str) -> ::anyhow::Result<Self> {
                <$t as ::clap::ValueEnum>::from_str(s, false).map_err(|_| {
                    let names: Vec<String> = <$t as ::clap::ValueEnum>::value_variants().iter().map(|v| v.to_string()).collect();
                    ::anyhow::anyhow!("unknown value '{s}': expected one of {}", names.join(", "))
                })
            }
        }

        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_string())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                s.parse().map_err(|e: ::anyhow::Error| <D::Error as ::serde::de::Error>::custom(e))
            }
        }
    )+};
}

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
    enum Colour {
        DeepRed,
        #[value(name = "blue-2")]
        Blue2,
    }
    crate::value_enum_names!(Colour);

    #[test]
    fn names_round_trip_and_errors_list_the_values() {
        assert_eq!(Colour::DeepRed.to_string(), "deep-red");
        assert_eq!("blue-2".parse::<Colour>().unwrap(), Colour::Blue2);
        let e = "green".parse::<Colour>().unwrap_err().to_string();
        assert!(e.contains("green") && e.contains("deep-red, blue-2"), "{e}");
        assert_eq!(serde_json::to_string(&Colour::DeepRed).unwrap(), "\"deep-red\"");
        assert_eq!(serde_json::from_str::<Colour>("\"blue-2\"").unwrap(), Colour::Blue2);
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
    }
}

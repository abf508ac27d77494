//! Text and bytes: everything between what a person types or reads and what goes on the wire.

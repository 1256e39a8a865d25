"""Where wrapped data keys live besides the keyring file: the Kafka key registry."""

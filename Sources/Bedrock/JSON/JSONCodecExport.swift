/// Every file of Bedrock, and every client of Bedrock, speaks `JSONValue`: the JSON target
/// comes with the module rather than as an import line in each of its files.
@_exported import JSONCodec

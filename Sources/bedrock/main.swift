import Bedrock
print(bedrockLibraryVersions())

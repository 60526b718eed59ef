import XCTest
@testable import Bedrock
final class SmokeTests: XCTestCase { func testLibs() { XCTAssertTrue(bedrockLibraryVersions().contains("lws")) } }

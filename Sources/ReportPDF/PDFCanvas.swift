internal import CCairo

/// One PDF being drawn: a cairo PDF surface writing into memory and its drawing context. Owned by
/// the one thread that renders the report (created, drawn and finished inside
/// `ReportPDF.render`); the surface and context are freed in `deinit` only.
final class PDFCanvas {
    /// Page size in points (1/72 inch): A4 landscape.
    static let width = 842.0
    static let height = 595.0

    /// The bytes cairo has written so far (cairo calls `append` through the stream callback).
    private final class Sink {
        var bytes: [UInt8] = []
    }

    private let sink = Sink()
    private let surface: OpaquePointer
    private let cr: OpaquePointer

    /// A new document of A4 landscape pages, with `title` in its metadata.
    init(title: String) {
        let write: cairo_write_func_t = { closure, data, length in
            guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue().bytes
                .append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }
        // The sink outlives the surface (both belong to self; the surface is finished in deinit
        // or in `finish` before self goes away), so an unretained pointer is sound.
        surface = cairo_pdf_surface_create_for_stream(
            write, Unmanaged.passUnretained(sink).toOpaque(), PDFCanvas.width, PDFCanvas.height)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Bedrock")
        cr = cairo_create(surface)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// Ends the document and answers its bytes; nothing may be drawn afterwards.
    func finish() throws -> [UInt8] {
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw ReportPDFError(message: String(cString: cairo_status_to_string(status)))
        }
        return sink.bytes
    }

    /// Ends the current page and starts the next.
    func nextPage() { cairo_show_page(cr) }

    // MARK: text

    /// Sets the font: DejaVu Sans (regular or bold) at `size` points.
    func font(_ size: Double, bold: Bool = false) {
        cairo_select_font_face(
            cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// How far `text` advances in the current font, in points.
    func textWidth(_ text: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    /// Horizontal placement of a text relative to `x`.
    enum Align: Sendable { case left, right, center }

    /// Draws `text` with its baseline at `y`.
    func text(_ text: String, x: Double, y: Double, align: Align = .left) {
        var start = x
        switch align {
        case .left: break
        case .right: start -= textWidth(text)
        case .center: start -= textWidth(text) / 2
        }
        cairo_move_to(cr, start, y)
        cairo_show_text(cr, text)
    }

    // MARK: paths

    /// Sets the colour for what is drawn next (components 0...1).
    func color(_ r: Double, _ g: Double, _ b: Double, alpha: Double = 1) {
        cairo_set_source_rgba(cr, r, g, b, alpha)
    }

    /// Sets the stroke width in points.
    func lineWidth(_ w: Double) { cairo_set_line_width(cr, w) }

    func move(_ x: Double, _ y: Double) { cairo_move_to(cr, x, y) }
    func line(_ x: Double, _ y: Double) { cairo_line_to(cr, x, y) }
    func close() { cairo_close_path(cr) }
    func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double) { cairo_rectangle(cr, x, y, w, h) }
    func stroke() { cairo_stroke(cr) }
    func fill() { cairo_fill(cr) }

    /// A straight stroked line from (x0, y0) to (x1, y1).
    func segment(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) {
        cairo_move_to(cr, x0, y0)
        cairo_line_to(cr, x1, y1)
        cairo_stroke(cr)
    }

    /// Runs `body` with drawing limited to the rectangle, then lifts the limit.
    func clipped(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ body: () -> Void) {
        cairo_save(cr)
        cairo_rectangle(cr, x, y, w, h)
        cairo_clip(cr)
        body()
        cairo_restore(cr)
    }
}

/// cairo could not produce the document.
public struct ReportPDFError: Error, CustomStringConvertible {
    /// cairo's own words.
    public var message: String
    /// The failure in a sentence.
    public var description: String { "PDF rendering failed: \(message)" }
}

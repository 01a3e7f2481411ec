//! The vocabulary of billing documents and tasks (issue 13), each written once: the database
//! stores these as text, the API shows them by the same names.

text_enum! {
    /// A billing document Leman renders as a PDF.
    pub enum DocumentKind {
        Invoice = "invoice",
        CreditNote = "credit_note",
        ProForma = "pro_forma",
    }
}

text_enum! {
    /// A task's state: `queued` until a worker takes it, `running`, then `succeeded` (its result
    /// ready) or `failed` (its error given).
    pub enum TaskStatus {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

impl TaskStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

text_enum! {
    /// What a task does.
    pub enum TaskKind {
        /// Invoices exported as CSV or as a ZIP of PDFs, mailed as a download link.
        InvoiceExport = "invoice_export",
    }
}

text_enum! {
    /// The format of an invoice export.
    pub enum ExportFormat {
        Csv = "csv",
        PdfZip = "pdf_zip",
    }
}

/// A document as the renderer gives it: deterministic bytes (no clock or random inside), so
/// its hash is its `ETag` and the same invoice always gives the same file.
#[derive(Debug, Clone)]
pub struct RenderedDocument {
    /// `invoice-2026-000123.pdf`, `credit-note-CN-2026-000001.pdf`, `pro-forma-PF-2026-000001.pdf`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

impl RenderedDocument {
    /// A strong entity tag: the SHA-256 of the bytes, quoted.
    pub fn etag(&self) -> String {
        use sha2::Digest;
        format!("\"{}\"", hex::encode(sha2::Sha256::digest(&self.bytes)))
    }
}

//! The e-invoice as the tax authority's XML message 2.1.0 (`HDon/DLHDon`), unsigned: the
//! provider signs it (`DSCKS`) and the tax authority adds its code (`MCCQT`). The element
//! names and their order are those of `reference/einvoice-2.1.0.xsd`.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::model::{BuyerId, CURRENCY, EInvoice, Line, MESSAGE_VERSION};

type W = Writer<Vec<u8>>;

/// The invoice's name (`THDon`) for template 1.
const TITLE: &str = "HÓA ĐƠN GIÁ TRỊ GIA TĂNG";

fn leaf(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// The XML of `inv` (which [`EInvoice::check`] accepted), UTF-8, indented.
pub fn write(inv: &EInvoice) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    body(&mut w, inv).expect("writing XML into memory");
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn body(w: &mut W, inv: &EInvoice) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("HDon").write_inner_content(|w| {
        w.create_element("DLHDon")
            .with_attribute(("Id", "data"))
            .write_inner_content(|w| {
                general(w, inv)?;
                w.create_element("NDHDon").write_inner_content(|w| {
                    seller(w, inv)?;
                    buyer(w, inv)?;
                    w.create_element("DSHHDVu").write_inner_content(|w| {
                        for (i, line) in inv.lines.iter().enumerate() {
                            item(w, i + 1, line)?;
                        }
                        Ok(())
                    })?;
                    totals(w, inv)
                })?;
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

fn general(w: &mut W, inv: &EInvoice) -> io::Result<()> {
    w.create_element("TTChung").write_inner_content(|w| {
        leaf(w, "PBan", MESSAGE_VERSION)?;
        leaf(w, "THDon", TITLE)?;
        leaf(w, "KHMSHDon", &inv.template)?;
        leaf(w, "KHHDon", inv.series.as_str())?;
        leaf(w, "SHDon", &inv.number.to_string())?;
        leaf(w, "NLap", &inv.issued_on.format("%Y-%m-%d").to_string())?;
        leaf(w, "DVTTe", CURRENCY)?;
        leaf(w, "TGia", "1")?;
        leaf(w, "HTTToan", &inv.payment_method)?;
        leaf(w, "MSTTCGP", inv.provider_tax_code.as_str())?;
        if let Some(r) = &inv.related {
            w.create_element("TTHDLQuan").write_inner_content(|w| {
                leaf(w, "TCHDon", &(r.correction as u8).to_string())?;
                // 1: the related invoice is an e-invoice under Decree 123.
                leaf(w, "LHDCLQuan", "1")?;
                leaf(w, "KHMSHDCLQuan", &r.template)?;
                leaf(w, "KHHDCLQuan", r.series.as_str())?;
                leaf(w, "SHDCLQuan", &r.number.to_string())?;
                leaf(w, "NLHDCLQuan", &r.issued_on.format("%Y-%m-%d").to_string())?;
                leaf(w, "GChu", &r.note)
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn seller(w: &mut W, inv: &EInvoice) -> io::Result<()> {
    let s = &inv.seller;
    w.create_element("NBan").write_inner_content(|w| {
        leaf(w, "Ten", &s.name)?;
        leaf(w, "MST", s.tax_code.as_str())?;
        leaf(w, "DChi", &s.address)?;
        leaf(w, "STKNHang", &s.bank_account)?;
        leaf(w, "TNHang", &s.bank_name)
    })?;
    Ok(())
}

fn buyer(w: &mut W, inv: &EInvoice) -> io::Result<()> {
    let b = &inv.buyer;
    w.create_element("NMua").write_inner_content(|w| {
        leaf(w, "Ten", &b.name)?;
        match &b.id {
            BuyerId::TaxCode(t) | BuyerId::Both(t, _) => leaf(w, "MST", t.as_str())?,
            BuyerId::BudgetUnit(_) => {}
        }
        leaf(w, "DChi", &b.address)?;
        match &b.id {
            BuyerId::BudgetUnit(u) | BuyerId::Both(_, u) => leaf(w, "MDVQHNSach", u.as_str())?,
            BuyerId::TaxCode(_) => {}
        }
        if let Some(e) = &b.email {
            leaf(w, "DCTDTu", e)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn item(w: &mut W, position: usize, l: &Line) -> io::Result<()> {
    w.create_element("HHDVu").write_inner_content(|w| {
        leaf(w, "TChat", &(l.nature as u8).to_string())?;
        leaf(w, "STT", &position.to_string())?;
        leaf(w, "THHDVu", &l.name)?;
        leaf(w, "DVTinh", &l.unit)?;
        leaf(w, "SLuong", &l.quantity.to_string())?;
        leaf(w, "DGia", &l.unit_price.to_string())?;
        leaf(w, "ThTien", &l.amount.to_string())?;
        leaf(w, "TSuat", l.rate.label())
    })?;
    Ok(())
}

fn totals(w: &mut W, inv: &EInvoice) -> io::Result<()> {
    let t = inv.totals();
    w.create_element("TToan").write_inner_content(|w| {
        w.create_element("THTTLTSuat").write_inner_content(|w| {
            for r in &t.per_rate {
                w.create_element("LTSuat").write_inner_content(|w| {
                    leaf(w, "TSuat", r.rate.label())?;
                    leaf(w, "ThTien", &r.taxable.to_string())?;
                    leaf(w, "TThue", &r.tax.to_string())
                })?;
            }
            Ok(())
        })?;
        leaf(w, "TgTCThue", &t.before_vat.to_string())?;
        leaf(w, "TgTThue", &t.vat.to_string())?;
        leaf(w, "TgTTTBSo", &t.total.to_string())?;
        leaf(w, "TgTTTBChu", &t.in_words)
    })?;
    Ok(())
}

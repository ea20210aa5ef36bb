//! [`Table`]: a CSV file as typed columns, with the preprocessing of the house-price chapter
//! (drop, concatenate, standardise, fill missing values, one-hot) and conversion to tensors.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::DataError;
use crate::display::{html_escape, Bundle, Show};

/// Cells that count as missing (as pandas reads them by default).
const MISSING: &[&str] = &[
    "", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "#N/A", "-NaN", "-nan", "n/a",
];

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// Numbers; missing values are NaN.
    Numeric(Vec<f64>),
    /// Text (categories); missing values are `None`.
    Text(Vec<Option<String>>),
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::Numeric(v) => v.len(),
            ColumnData::Text(v) => v.len(),
        }
    }

    fn missing(n: usize, numeric: bool) -> Self {
        if numeric {
            ColumnData::Numeric(vec![f64::NAN; n])
        } else {
            ColumnData::Text(vec![None; n])
        }
    }

    fn cell(&self, row: usize) -> String {
        match self {
            ColumnData::Numeric(v) => {
                let x = v[row];
                if x.is_nan() {
                    "NaN".into()
                } else if x.fract() == 0.0 && x.abs() < 1e15 {
                    format!("{x:.0}")
                } else {
                    format!("{x:.6}").trim_end_matches('0').to_string()
                }
            }
            ColumnData::Text(v) => v[row].clone().unwrap_or_else(|| "NaN".into()),
        }
    }

    fn slice(&self, rows: std::ops::Range<usize>) -> Self {
        match self {
            ColumnData::Numeric(v) => ColumnData::Numeric(v[rows].to_vec()),
            ColumnData::Text(v) => ColumnData::Text(v[rows].to_vec()),
        }
    }
}

/// A named column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The header.
    pub name: String,
    /// The values.
    pub data: ColumnData,
}

impl Column {
    /// Whether the column holds numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(self.data, ColumnData::Numeric(_))
    }
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field separator (`b','`; `b'\t'` for the airfoil data).
    pub delimiter: u8,
    /// Whether the first row names the columns; without, columns are named `0`, `1`, ...
    pub has_headers: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            has_headers: true,
        }
    }
}

/// A table of named columns, each numeric or text, read from CSV (a tiny pandas `DataFrame`).
///
/// ```
/// use d2l::data::Table;
/// let csv = "Id,Size,Street,Price\n1,60,Pave,200\n2,NA,Grvl,150\n3,80,NA,300\n";
/// let table = Table::from_reader(csv.as_bytes()).unwrap();
/// assert_eq!(table.shape(), (3, 4));
/// let features = table.drop(&["Id", "Price"]).standardize().fill_missing(0.0).one_hot(true);
/// assert_eq!(features.column_names(), ["Size", "Street_Grvl", "Street_Pave", "Street_nan"]);
/// let x = features.to_tensor().unwrap();
/// assert_eq!(x.size(), [3, 4]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// Reads a CSV file with a header row.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Self, DataError> {
        Self::read_csv_with(path, &CsvOptions::default())
    }

    /// Reads a CSV file with the given options.
    pub fn read_csv_with(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        Self::parse(file, options, path)
    }

    /// Reads CSV text with a header row.
    pub fn from_reader(reader: impl Read) -> Result<Self, DataError> {
        Self::parse(reader, &CsvOptions::default(), Path::new("<csv>"))
    }

    /// Reads CSV text with the given options.
    pub fn from_reader_with(reader: impl Read, options: &CsvOptions) -> Result<Self, DataError> {
        Self::parse(reader, options, Path::new("<csv>"))
    }

    fn parse(reader: impl Read, options: &CsvOptions, path: &Path) -> Result<Self, DataError> {
        let csv_err = |source| DataError::Csv {
            path: PathBuf::from(path),
            source,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(options.has_headers)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let mut names: Vec<String> = if options.has_headers {
            rdr.headers()
                .map_err(csv_err)?
                .iter()
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        let mut rows = 0;
        for record in rdr.records() {
            let record = record.map_err(csv_err)?;
            if !options.has_headers && names.is_empty() {
                names = (0..record.len()).map(|i| i.to_string()).collect();
                cells = vec![Vec::new(); names.len()];
            }
            if record.len() != names.len() {
                return Err(DataError::Invalid(format!(
                    "{}: line {}: {} fields, expected {}",
                    path.display(),
                    record.position().map(|p| p.line()).unwrap_or(0),
                    record.len(),
                    names.len()
                )));
            }
            for (col, value) in cells.iter_mut().zip(record.iter()) {
                col.push(value.to_string());
            }
            rows += 1;
        }
        let columns = names
            .into_iter()
            .zip(cells)
            .map(|(name, values)| {
                let is_missing = |s: &str| MISSING.contains(&s);
                let numeric = values
                    .iter()
                    .all(|s| is_missing(s) || s.parse::<f64>().is_ok());
                let data = if numeric {
                    ColumnData::Numeric(
                        values
                            .iter()
                            .map(|s| {
                                if is_missing(s) {
                                    f64::NAN
                                } else {
                                    s.parse().unwrap_or(f64::NAN)
                                }
                            })
                            .collect(),
                    )
                } else {
                    ColumnData::Text(
                        values
                            .into_iter()
                            .map(|s| if is_missing(&s) { None } else { Some(s) })
                            .collect(),
                    )
                };
                Column { name, data }
            })
            .collect();
        Ok(Table { columns, rows })
    }

    /// A table from columns of equal length.
    pub fn from_columns(columns: Vec<Column>) -> Result<Self, DataError> {
        let rows = columns.first().map(|c| c.data.len()).unwrap_or(0);
        if let Some(c) = columns.iter().find(|c| c.data.len() != rows) {
            return Err(DataError::Invalid(format!(
                "column {:?} has {} rows, expected {rows}",
                c.name,
                c.data.len()
            )));
        }
        Ok(Table { columns, rows })
    }

    /// `(rows, columns)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.columns.len())
    }

    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column names.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table without the named columns (names that are absent are ignored).
    pub fn drop(&self, names: &[&str]) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .filter(|c| !names.contains(&c.name.as_str()))
                .cloned()
                .collect(),
            rows: self.rows,
        }
    }

    /// The named columns, in the order given.
    pub fn select(&self, names: &[&str]) -> Result<Table, DataError> {
        let columns = names
            .iter()
            .map(|n| {
                self.column(n)
                    .cloned()
                    .ok_or_else(|| DataError::Invalid(format!("no column named {n:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Table {
            columns,
            rows: self.rows,
        })
    }

    /// Rows `range` of the table.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Table {
        let range =
            range.start.min(self.rows)..range.end.min(self.rows).max(range.start.min(self.rows));
        Table {
            rows: range.len(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    data: c.data.slice(range.clone()),
                })
                .collect(),
        }
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Table {
        self.rows(0..n)
    }

    /// `self`'s rows followed by `other`'s (pandas `concat`): columns are matched by name, a
    /// column missing from one side is filled with missing values, and a column numeric on one
    /// side and text on the other becomes text.
    pub fn concat(&self, other: &Table) -> Table {
        let mut names: Vec<&str> = self.column_names();
        for n in other.column_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let columns = names
            .into_iter()
            .map(|name| {
                let a = self.column(name).map(|c| &c.data);
                let b = other.column(name).map(|c| &c.data);
                let numeric = a.is_none_or(|d| matches!(d, ColumnData::Numeric(_)))
                    && b.is_none_or(|d| matches!(d, ColumnData::Numeric(_)));
                let a = a
                    .cloned()
                    .unwrap_or_else(|| ColumnData::missing(self.rows, numeric));
                let b = b
                    .cloned()
                    .unwrap_or_else(|| ColumnData::missing(other.rows, numeric));
                let data = match (a, b) {
                    (ColumnData::Numeric(mut x), ColumnData::Numeric(y)) => {
                        x.extend(y);
                        ColumnData::Numeric(x)
                    }
                    (a, b) => {
                        let text = |d: ColumnData| -> Vec<Option<String>> {
                            match d {
                                ColumnData::Text(v) => v,
                                ColumnData::Numeric(v) => v
                                    .into_iter()
                                    .map(|x| (!x.is_nan()).then(|| x.to_string()))
                                    .collect(),
                            }
                        };
                        let mut x = text(a);
                        x.extend(text(b));
                        ColumnData::Text(x)
                    }
                };
                Column {
                    name: name.to_string(),
                    data,
                }
            })
            .collect();
        Table {
            columns,
            rows: self.rows + other.rows,
        }
    }

    /// Standardises every numeric column to zero mean and unit variance, `(x - mean) / std`,
    /// with the sample standard deviation over the values present (as pandas computes it).
    /// Missing values stay missing; a constant column becomes all zeros.
    pub fn standardize(mut self) -> Table {
        for c in &mut self.columns {
            if let ColumnData::Numeric(v) = &mut c.data {
                let present: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                if present.is_empty() {
                    continue;
                }
                let n = present.len() as f64;
                let mean = present.iter().sum::<f64>() / n;
                let var = if present.len() > 1 {
                    present.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
                } else {
                    0.0
                };
                let std = var.sqrt();
                for x in v.iter_mut().filter(|x| !x.is_nan()) {
                    *x = if std > 0.0 { (*x - mean) / std } else { 0.0 };
                }
            }
        }
        self
    }

    /// Replaces missing values of numeric columns with `value`.
    pub fn fill_missing(mut self, value: f64) -> Table {
        for c in &mut self.columns {
            if let ColumnData::Numeric(v) = &mut c.data {
                v.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = value);
            }
        }
        self
    }

    /// Replaces every text column by indicator columns (pandas `get_dummies`): numeric columns
    /// first, in their order, then for each text column one `name_value` column per distinct
    /// value (sorted), and with `dummy_na` a `name_nan` column for missing values.
    pub fn one_hot(self, dummy_na: bool) -> Table {
        let rows = self.rows;
        let (numeric, text): (Vec<Column>, Vec<Column>) =
            self.columns.into_iter().partition(Column::is_numeric);
        let mut columns = numeric;
        for c in text {
            let ColumnData::Text(values) = c.data else {
                continue;
            };
            let mut levels: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
            levels.sort_unstable();
            levels.dedup();
            for level in &levels {
                let data = values
                    .iter()
                    .map(|v| {
                        if v.as_deref() == Some(*level) {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                columns.push(Column {
                    name: format!("{}_{}", c.name, level),
                    data: ColumnData::Numeric(data),
                });
            }
            if dummy_na {
                let data = values
                    .iter()
                    .map(|v| if v.is_none() { 1.0 } else { 0.0 })
                    .collect();
                columns.push(Column {
                    name: format!("{}_nan", c.name),
                    data: ColumnData::Numeric(data),
                });
            }
        }
        Table { columns, rows }
    }

    /// The table as a `[rows, columns]` `Float` tensor; every column must be numeric.
    pub fn to_tensor(&self) -> Result<Tensor, DataError> {
        let mut data = Vec::with_capacity(self.rows * self.columns.len());
        let cols: Vec<&Vec<f64>> = self
            .columns
            .iter()
            .map(|c| match &c.data {
                ColumnData::Numeric(v) => Ok(v),
                ColumnData::Text(_) => Err(DataError::Invalid(format!(
                    "column {:?} holds text; one-hot encode it (Table::one_hot) or drop it first",
                    c.name
                ))),
            })
            .collect::<Result<_, _>>()?;
        for r in 0..self.rows {
            data.extend(cols.iter().map(|c| c[r] as f32));
        }
        Ok(Tensor::from_slice(&data).reshape([self.rows as i64, self.columns.len() as i64]))
    }

    /// One numeric column as a `[rows]` `Float` tensor.
    pub fn column_tensor(&self, name: &str) -> Result<Tensor, DataError> {
        match self.column(name).map(|c| &c.data) {
            Some(ColumnData::Numeric(v)) => Ok(Tensor::from_slice(v).to_kind(Kind::Float)),
            Some(ColumnData::Text(_)) => {
                Err(DataError::Invalid(format!("column {name:?} holds text")))
            }
            None => Err(DataError::Invalid(format!("no column named {name:?}"))),
        }
    }

    fn preview(&self) -> (Vec<usize>, Vec<usize>) {
        // At most 10 rows (first 5, last 5) and 12 columns (first 6, last 6), as pandas shows.
        let pick = |n: usize, k: usize| -> Vec<usize> {
            if n <= 2 * k {
                (0..n).collect()
            } else {
                (0..k).chain(n - k..n).collect()
            }
        };
        (pick(self.rows, 5), pick(self.columns.len(), 6))
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (rows, cols) = self.preview();
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut header = vec![String::new()];
        for (k, &c) in cols.iter().enumerate() {
            if k > 0 && cols[k - 1] + 1 != c {
                header.push("...".into());
            }
            header.push(self.columns[c].name.clone());
        }
        grid.push(header);
        for (i, &r) in rows.iter().enumerate() {
            if i > 0 && rows[i - 1] + 1 != r {
                grid.push(vec!["...".into(); grid[0].len()]);
            }
            let mut line = vec![r.to_string()];
            for (k, &c) in cols.iter().enumerate() {
                if k > 0 && cols[k - 1] + 1 != c {
                    line.push("...".into());
                }
                line.push(self.columns[c].data.cell(r));
            }
            grid.push(line);
        }
        let widths: Vec<usize> = (0..grid[0].len())
            .map(|j| {
                grid.iter()
                    .map(|l| l.get(j).map(|s| s.chars().count()).unwrap_or(0))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &grid {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(s, w)| format!("{s:>w$}"))
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())?;
        }
        write!(f, "[{} rows x {} columns]", self.rows, self.columns.len())
    }
}

impl Show for Table {
    fn bundle(&self) -> Bundle {
        let (rows, cols) = self.preview();
        let mut html = String::from(
            "<div class=\"d2l-table\"><table border=\"1\" class=\"dataframe\"><thead><tr><th></th>",
        );
        for (k, &c) in cols.iter().enumerate() {
            if k > 0 && cols[k - 1] + 1 != c {
                html.push_str("<th>...</th>");
            }
            let _ = write!(html, "<th>{}</th>", html_escape(&self.columns[c].name));
        }
        html.push_str("</tr></thead><tbody>");
        for (i, &r) in rows.iter().enumerate() {
            if i > 0 && rows[i - 1] + 1 != r {
                let _ = write!(
                    html,
                    "<tr><th>...</th>{}</tr>",
                    "<td>...</td>"
                        .repeat(cols.len() + usize::from(cols.len() < self.columns.len()))
                );
            }
            let _ = write!(html, "<tr><th>{r}</th>");
            for (k, &c) in cols.iter().enumerate() {
                if k > 0 && cols[k - 1] + 1 != c {
                    html.push_str("<td>...</td>");
                }
                let _ = write!(
                    html,
                    "<td>{}</td>",
                    html_escape(&self.columns[c].data.cell(r))
                );
            }
            html.push_str("</tr>");
        }
        let _ = write!(
            html,
            "</tbody></table><p>{} rows × {} columns</p></div>",
            self.rows,
            self.columns.len()
        );
        Bundle::new()
            .with("text/plain", self.to_string())
            .with("text/html", html)
    }
}

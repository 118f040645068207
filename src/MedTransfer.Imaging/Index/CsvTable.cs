using System.Text;

namespace MedTransfer.Imaging.Index;

/// <summary>
/// A minimal RFC 4180 reader and writer: comma separated, fields optionally in double quotes, quotes doubled
/// inside quoted fields, CRLF or LF line ends, quoted fields may span lines. Every record remembers the
/// physical line it started on so errors can name it.
/// </summary>
public static class CsvTable
{
    /// <summary>One record and the 1-based physical line it starts on.</summary>
    /// <param name="Line">1-based physical line where the record starts.</param>
    /// <param name="Fields">The fields, unquoted.</param>
    public readonly record struct Record(int Line, string[] Fields);

    /// <summary>Reads every record. A quote that is never closed, or text after a closing quote, throws.</summary>
    /// <exception cref="ManifestException">Malformed CSV.</exception>
    public static IEnumerable<Record> Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1;
        int recordLine = 1;
        bool inQuotes = false;
        bool wasQuoted = false;
        bool afterQuote = false;
        bool any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            char ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                        afterQuote = true;
                    }
                }
                else
                {
                    if (ch == '\n')
                    {
                        line++;
                    }

                    field.Append(ch);
                }

                continue;
            }

            switch (ch)
            {
                case '"':
                    if (field.Length > 0 || wasQuoted)
                    {
                        throw new ManifestException(line, null, "a double quote inside an unquoted field (RFC 4180 requires the whole field to be quoted)");
                    }

                    inQuotes = true;
                    wasQuoted = true;
                    any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    wasQuoted = false;
                    afterQuote = false;
                    any = true;
                    break;
                case '\r':
                    if (reader.Peek() == '\n')
                    {
                        break;
                    }

                    goto case '\n';
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        yield return new Record(recordLine, [.. fields]);
                    }

                    fields.Clear();
                    field.Clear();
                    wasQuoted = false;
                    afterQuote = false;
                    any = false;
                    line++;
                    recordLine = line;
                    break;
                default:
                    if (afterQuote)
                    {
                        throw new ManifestException(line, null, "text after the closing quote of a field");
                    }

                    field.Append(ch);
                    any = true;
                    break;
            }
        }

        if (inQuotes)
        {
            throw new ManifestException(recordLine, null, "a quoted field is never closed (unbalanced double quote)");
        }

        if (any || field.Length > 0)
        {
            fields.Add(field.ToString());
            yield return new Record(recordLine, [.. fields]);
        }
    }

    /// <summary>Writes one record, quoting a field only when it holds a comma, quote, CR, LF or leading/trailing space.</summary>
    public static void WriteRecord(TextWriter writer, IReadOnlyList<string> fields)
    {
        for (int i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }

            writer.Write(Quote(fields[i]));
        }

        writer.Write("\r\n");
    }

    /// <summary>The field as it must appear in CSV: quoted (quotes doubled) when it needs to be, else as is.</summary>
    public static string Quote(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        bool needs = field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])));
        return needs ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
    }
}

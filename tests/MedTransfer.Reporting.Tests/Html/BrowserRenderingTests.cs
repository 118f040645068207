using System.Diagnostics;
using MedTransfer.Reporting.Figures;
using MedTransfer.Reporting.Html;
using MedTransfer.Testing;

namespace MedTransfer.Reporting.Tests.Html;

/// <summary>The report opens in a real headless browser (Debian chromium) and renders to a screenshot.</summary>
[Trait("Category", "Integration")]
public sealed class BrowserRenderingTests
{
    [SkippableFact]
    public void Report_RendersInHeadlessChromium()
    {
        Skip.IfNot(File.Exists("/usr/bin/chromium"), "Debian chromium is not installed (apt-get install chromium)");
        string dir = TestPaths.NewTempDirectory("medtransfer-browser");
        try
        {
            var doc = new ReportDocument("Browser check", "integration lane");
            foreach (string id in HtmlReport.RequiredSections.Keys)
            {
                doc.Add(id, id, new Paragraph($"content of {id}"));
            }

            doc.Add("figure", "Figure", new FigureBlock(Charts.Roc("roc", "ROC", [new CurveInput("A", [0.1, 0.9, 0.3, 0.7], [0, 1, 0, 1])]), "roc"));
            string report = HtmlReport.Write(doc, dir);
            string shot = Path.Combine(dir, "shot.png");
            var start = new ProcessStartInfo("/usr/bin/chromium")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "profile")}", "--window-size=1000,1400", $"--screenshot={shot}", new Uri(report).AbsoluteUri })
            {
                start.ArgumentList.Add(a);
            }

            using Process p = Process.Start(start)!;
            p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEndAsync();
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "chromium did not finish");

            Assert.True(File.Exists(shot), "no screenshot");
            Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot is nearly empty");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

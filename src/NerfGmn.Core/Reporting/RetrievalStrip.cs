using SkiaSharp;

namespace NerfGmn.Reporting;

/// <summary>One retrieval row: the query's thumbnail and caption, then each retrieved item's, hits framed green.</summary>
public sealed record RetrievalRow(string QueryImage, string QueryCaption, IReadOnlyList<(string Image, string Caption, bool Hit)> Results);

/// <summary>A PNG strip of retrieval results: one row per query, thumbnails scaled to a fixed size on white.</summary>
public static class RetrievalStrip
{
    public static void Write(string pngPath, IReadOnlyList<RetrievalRow> rows, int thumb = 96)
    {
        int cols = 1 + rows.Max(r => r.Results.Count);
        int cellW = thumb + 24, cellH = thumb + 40, gap = 16;
        using var surface = SKSurface.Create(new SKImageInfo(cols * cellW + gap, rows.Count * cellH + 8));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 11);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int r = 0; r < rows.Count; r++)
        {
            int y = r * cellH + 4;
            Cell(canvas, font, text, rows[r].QueryImage, rows[r].QueryCaption, 4, y, thumb, SKColors.SteelBlue);
            for (int k = 0; k < rows[r].Results.Count; k++)
            {
                var (img, caption, hit) = rows[r].Results[k];
                Cell(canvas, font, text, img, caption, (k + 1) * cellW + gap, y, thumb, hit ? SKColors.ForestGreen : SKColors.IndianRed);
            }
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        IO.AtomicFile.Write(pngPath, tmp => { using var fs = File.Create(tmp); data.SaveTo(fs); });
    }

    static void Cell(SKCanvas canvas, SKFont font, SKPaint text, string imagePath, string caption, int x, int y, int size, SKColor frame)
    {
        using (var bmp = File.Exists(imagePath) ? SKBitmap.Decode(imagePath) : null)
        {
            var dest = new SKRect(x + 2, y + 2, x + 2 + size, y + 2 + size);
            if (bmp is not null)
            {
                using var img = SKImage.FromBitmap(bmp);
                canvas.DrawImage(img, dest, new SKSamplingOptions(SKFilterMode.Linear));
            }
            using var border = new SKPaint { Color = frame, Style = SKPaintStyle.Stroke, StrokeWidth = 3 };
            canvas.DrawRect(dest, border);
        }
        foreach (var (line, i) in caption.Split('\n').Select((l, i) => (l, i)))
            canvas.DrawText(line, x + 2, y + size + 16 + 12 * i, SKTextAlign.Left, font, text);
    }
}

using System.Globalization;
using ScottPlot;

// Reads the growth benchmark's CSV (Measure,Rows,Value,Unit; one row per measure and table size) and draws each
// measure's cost relative to its cost at the smallest table, on log-log axes beside the line of linear growth, so a
// curve steeper than that line is a cost that grows faster than the table.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: GrowthPlot <growth.csv> <growth.png>");
    return 2;
}

var rows = File.ReadAllLines(args[0]).Skip(1)
    .Select(line => line.Split(','))
    // A measure's name may hold commas; the last three cells are the numbers and the unit.
    .Select(cells => (
        Measure: string.Join(",", cells[..^3]).Trim('"'),
        Rows: double.Parse(cells[^3], CultureInfo.InvariantCulture),
        Value: double.Parse(cells[^2], CultureInfo.InvariantCulture)))
    .ToList();
var smallest = rows.Min(r => r.Rows);
var largest = rows.Max(r => r.Rows);

var plot = new Plot();
plot.Title($"Cost against table size, relative to {smallest:N0} triggers (log-log)");
plot.XLabel("triggers in workflow_triggers");
plot.YLabel("cost relative to the smallest table");

var linear = plot.Add.Scatter(new[] { Math.Log10(smallest), Math.Log10(largest) }, new[] { 0.0, Math.Log10(largest / smallest) });
linear.LegendText = "linear growth";
linear.LineStyle.Pattern = LinePattern.Dashed;
linear.LineWidth = 2;
linear.Color = Colors.Black;
linear.MarkerSize = 0;

var palette = new ScottPlot.Palettes.Category10();
var index = 0;
foreach (var measure in rows.GroupBy(r => r.Measure))
{
    var points = measure.OrderBy(r => r.Rows).ToList();
    var baseline = points[0].Value;
    if (baseline <= 0)
    {
        continue;
    }

    var line = plot.Add.Scatter(
        points.Select(p => Math.Log10(p.Rows)).ToArray(),
        points.Select(p => Math.Log10(Math.Max(p.Value, baseline / 100) / baseline)).ToArray());
    line.LegendText = measure.Key;
    line.Color = palette.GetColor(index % palette.Colors.Length);
    line.MarkerShape = index++ < palette.Colors.Length ? MarkerShape.FilledCircle : MarkerShape.FilledSquare;
    line.LineWidth = 2;
    line.MarkerSize = 7;
}

// Ticks at powers of ten, labelled with the values rather than their logarithms.
static string Label(double exponent) => Math.Pow(10, exponent).ToString("#,##0.##", CultureInfo.InvariantCulture);
var xTicks = new ScottPlot.TickGenerators.NumericManual();
for (var e = Math.Floor(Math.Log10(smallest)); e <= Math.Ceiling(Math.Log10(largest)); e++)
{
    xTicks.AddMajor(e, Label(e));
}

plot.Axes.Bottom.TickGenerator = xTicks;
var yTicks = new ScottPlot.TickGenerators.NumericManual();
for (var e = -2; e <= Math.Ceiling(Math.Log10(largest / smallest)) + 1; e++)
{
    yTicks.AddMajor(e, Label(e) + "x");
}

plot.Axes.Left.TickGenerator = yTicks;
plot.Legend.Alignment = Alignment.UpperLeft;
plot.ShowLegend();
plot.SavePng(args[1], 1100, 700);
Console.WriteLine($"Wrote {args[1]}");
return 0;
